import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { realtimeRequests } from "../../src/speech/RealtimeSynthesisClient.js";
import { billableCharacters } from "../../src/text/billing.js";
import { uniqueName } from "../support/names.js";
import {
  chapterText,
  E2E_TIMEOUT_MS,
  readJsonBlob,
  type Stack,
  startProject,
  startStack,
  uploadChapters,
  waitForRun,
} from "./e2eHarness.js";

// A realtime chapter is sent as several requests (RealtimeSynthesisClient.synthesizeLong). When a later one
// fails, Speech has already billed the ones before it: the chapter's failed outcome, the manifest totals and
// so the dashboard's cost must count them. Failed on the code before this file: the failed outcome carried
// no billableCharacters nor speechRequests (manifest total 0 characters for the chapter, 2 requests short).
let stack: Stack;
beforeAll(async () => {
  stack = await startStack(inject("azuriteConnectionString"));
});
afterAll(async () => {
  await stack?.stop();
});

const VOICE = "en-US-AvaMultilingualNeural";

describe("realtime billing of a chapter whose later request fails", () => {
  it("reports what Speech billed, for the failed chapter and in total", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("rtbill");
    // Two paragraphs of ~5,000 and ~7,000 characters: two requests at 150 words per minute (the emulator's
    // rate for the voice); the fault marker is in the second, so the first is billed and the second refused.
    const failing = `${chapterText(11, 900)}\n\n${chapterText(12, 900)} [[emulator:fail-always]] ${chapterText(13, 100)}`;
    const { chunks } = realtimeRequests({ text: failing, voice: VOICE }, { wordsPerMinute: 150 });
    expect(chunks.map((c) => c.includes("[[emulator:fail-always]]"))).toEqual([false, true]);
    await uploadChapters(stack, projectId, { "a.txt": chapterText(1), "b.txt": failing });

    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId, { mode: "realtime", voice: VOICE })).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({ runtimeStatus: "Completed", chapters: { succeeded: 1, failed: 1 } });
    const after = await stack.emulator.usage();
    const billed = after.realtimeCharacters - before.realtimeCharacters;
    const served = (["create", "get", "list", "delete", "realtime"] as const).reduce(
      (sum, k) => sum + after.requests[k] - before.requests[k],
      0,
    );
    // a's one request, b's two (the second refused): each request reached Speech once, none was re-sent.
    expect(after.requests.realtime - before.requests.realtime).toBe(3);

    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    expect(manifest.chapters.find((c: { chapterId: string }) => c.chapterId === "b")).toMatchObject({
      status: "failed",
      mode: "realtime",
    });
    expect(manifest.totals.billableCharacters).toBe(billed);
    expect(manifest.totals.speechRequests).toBe(served);

    // The failed chapter's own outcome: its first request's characters, both requests.
    const outcomes: Record<string, { billableCharacters?: number; speechRequests?: number; status: string }> =
      {};
    for await (const blob of stack.work.listBlobsFlat({
      prefix: `${projectId}/${manifest.runId}/outcomes/`,
    })) {
      const outcome = await readJsonBlob(stack.work, blob.name);
      outcomes[outcome.chapterId] = outcome;
    }
    expect(outcomes["b"]).toMatchObject({
      status: "failed",
      billableCharacters: billableCharacters(chunks[0] as string, "SSML"),
      speechRequests: 2,
    });
    expect(outcomes["a"]?.status).toBe("succeeded");
    expect((outcomes["a"]?.billableCharacters ?? 0) + (outcomes["b"]?.billableCharacters ?? 0)).toBe(billed);
  });

  it("the same in the batch run's realtime fallback", { timeout: E2E_TIMEOUT_MS }, async () => {
    const projectId = uniqueName("rtfall");
    // The marker fails the input in every batch job too, so the chapter goes through its batch attempts, then
    // its one realtime attempt, whose first request is billed and second refused.
    const failing = `${chapterText(21, 900)}\n\n${chapterText(22, 900)} [[emulator:fail-always]] ${chapterText(23, 100)}`;
    const { chunks } = realtimeRequests({ text: failing, voice: VOICE }, { wordsPerMinute: 150 });
    expect(chunks.map((c) => c.includes("[[emulator:fail-always]]"))).toEqual([false, true]);
    await uploadChapters(stack, projectId, { "a.txt": chapterText(2), "b.txt": failing });

    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId, { voice: VOICE })).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({ runtimeStatus: "Completed", chapters: { succeeded: 1, failed: 1 } });
    const after = await stack.emulator.usage();
    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    expect(manifest.chapters.find((c: { chapterId: string }) => c.chapterId === "b")).toMatchObject({
      status: "failed",
      mode: "realtime",
    });
    expect(after.requests.realtime - before.requests.realtime).toBe(2);
    expect(after.realtimeCharacters - before.realtimeCharacters).toBe(
      billableCharacters(chunks[0] as string, "SSML"),
    );
    // Batch bills a's input only (failed inputs are not billed); realtime b's first request.
    const billed =
      after.billableCharacters -
      before.billableCharacters +
      (after.realtimeCharacters - before.realtimeCharacters);
    expect(manifest.totals.billableCharacters).toBe(billed);
  });
});
