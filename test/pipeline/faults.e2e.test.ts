import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { uniqueName } from "../support/names.js";
import {
  api,
  chapterText,
  E2E_TIMEOUT_MS,
  expectBilled,
  readJsonBlob,
  type Stack,
  startProject,
  startStack,
  uploadChapters,
  waitForRun,
} from "./e2eHarness.js";

let stack: Stack;
// Retry paths run several jobs in a row: generous budgets for a loaded machine.
vi.setConfig({ testTimeout: E2E_TIMEOUT_MS });

beforeAll(async () => {
  // A small payload limit so a "too large" chapter is cheap to make.
  // Two batch attempts before the realtime fallback keeps the retry tests short.
  stack = await startStack(inject("azuriteConnectionString"), {
    MAX_JOB_PAYLOAD_BYTES: "20000",
    MAX_CHAPTER_ATTEMPTS: "2",
  });
});

afterAll(async () => {
  await stack?.stop();
});

type ManifestChapter = {
  chapterId: string;
  status: string;
  reason: string | null;
  mode: string | null;
  attempts: number;
};

async function manifestOf(
  projectId: string,
): Promise<{ chapters: ManifestChapter[]; totals: Record<string, number> }> {
  return readJsonBlob(stack.audio, `${projectId}/manifest.json`);
}

function byId(chapters: ManifestChapter[]): Record<string, ManifestChapter> {
  return Object.fromEntries(chapters.map((c) => [c.chapterId, c]));
}

describe("bad input and service faults", () => {
  it("rejects empty, invalid UTF-8, broken SSML and too-large chapters and narrates the rest", async () => {
    const projectId = uniqueName("bad");
    await uploadChapters(stack, projectId, {
      "01-good.txt": chapterText(1),
      "02-empty.txt": "  \n\n ",
      "03-latin1.txt": Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x6f, 0x69, 0x72]),
      "04-broken.ssml": "<speak version='1.0'><voice name='en-US-AvaMultilingualNeural'>Unclosed",
      "05-huge.txt": "word ".repeat(5000),
      "06-good.ssml":
        "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='en-US'><voice name='en-US-AvaMultilingualNeural'>Fish &amp; chips &lt; 5 “quotes”.</voice></speak>",
      "07-bom.txt": Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from("Ünïcödé text with a BOM.", "utf8"),
      ]),
    });
    const estimate = await api(stack, "GET", `/api/projects/${projectId}/estimate`);
    expect(estimate.status).toBe(200);
    expect(estimate.body).toMatchObject({ projectId, chapters: 7, unchanged: 0, plannedJobs: 2 });
    expect(estimate.body["rejected"]).toEqual([
      { chapterId: "02-empty", reason: "empty" },
      { chapterId: "03-latin1", reason: "invalid-encoding" },
      { chapterId: "04-broken", reason: "invalid-ssml" },
      { chapterId: "05-huge", reason: "too-large" },
    ]);
    expect(estimate.body["estimatedCost"]).toMatchObject({ currency: "USD", pricePerMillionCharacters: 15 });
    const usageBefore = await stack.emulator.usage();

    expect((await startProject(stack, projectId)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({
      runtimeStatus: "Completed",
      chapters: { total: 7, succeeded: 3, rejected: 4, failed: 0 },
    });
    const chapters = byId((await manifestOf(projectId)).chapters);
    expect(chapters["02-empty"]).toMatchObject({ status: "rejected", reason: "empty" });
    expect(chapters["03-latin1"]).toMatchObject({ status: "rejected", reason: "invalid-encoding" });
    expect(chapters["04-broken"]).toMatchObject({ status: "rejected", reason: "invalid-ssml" });
    expect(chapters["05-huge"]).toMatchObject({ status: "rejected", reason: "too-large" });
    for (const id of ["01-good", "06-good", "07-bom"]) expect(chapters[id]?.status).toBe("succeeded");
    // Estimating sent nothing to Speech; the run made one PlainText and one SSML job of the 3 good chapters.
    await expectBilled(stack.emulator, usageBefore, { inputs: 3, jobs: 2 });
  });

  it("retries a failing input in later jobs, then falls back to realtime once", async () => {
    const projectId = uniqueName("flaky");
    await uploadChapters(stack, projectId, {
      "a.txt": chapterText(1),
      "b.txt": `This one trips the batch service. [[emulator:fail-input]] ${chapterText(2)}`,
      "c.txt": chapterText(3),
    });
    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({ runtimeStatus: "Completed", chapters: { succeeded: 3, failed: 0 } });
    // a, b, c in the first job; b again alone (attempt 2); then b once through realtime (attempt 3).
    await expectBilled(stack.emulator, before, { inputs: 4, realtime: 1, jobs: 2 });
    const chapters = byId((await manifestOf(projectId)).chapters);
    expect(chapters["b"]).toMatchObject({ status: "succeeded", mode: "realtime", attempts: 3 });
    expect(chapters["a"]).toMatchObject({ status: "succeeded", mode: "batch", attempts: 1 });
    const messages = (await stack.drainMessages()).filter((m) => m.projectId === projectId);
    expect(messages.map((m) => m.chapterId).sort()).toEqual(["a", "b", "c"]);
  });

  it("marks an always-failing chapter failed with the service's reason while the others succeed", async () => {
    const projectId = uniqueName("poison");
    await uploadChapters(stack, projectId, {
      "a.txt": chapterText(4),
      "b.txt": `Never works. [[emulator:fail-always]] ${chapterText(5)}`,
    });
    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({
      runtimeStatus: "Completed",
      chapters: { succeeded: 1, failed: 1, pending: 0 },
    });
    const manifest = await manifestOf(projectId);
    const b = byId(manifest.chapters)["b"];
    expect(b).toMatchObject({ status: "failed", mode: "realtime", attempts: 3 });
    expect(b?.reason).toBeTruthy();
    expect(manifest.totals).toMatchObject({ succeeded: 1, failed: 1 });
    // a and b, then b alone, then b's one realtime attempt (refused by the service, no retry).
    await expectBilled(stack.emulator, before, { inputs: 3, realtime: 1, jobs: 2 });
    expect(await stack.audio.getBlobClient(`${projectId}/b.mp3`).exists()).toBe(false);
  });

  it("retries the chapters of a failed job in new jobs", async () => {
    const projectId = uniqueName("failjob");
    await uploadChapters(stack, projectId, {
      "a.txt": chapterText(6),
      "b.txt": `Breaks the job. [[emulator:fail-job]] ${chapterText(7)}`,
      "c.txt": chapterText(8),
      "d.txt": chapterText(9),
    });
    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({
      runtimeStatus: "Completed",
      chapters: { total: 4, succeeded: 4, failed: 0 },
    });
    expect(final["jobs"]["failed"]).toBeGreaterThanOrEqual(1);
    expect(final["jobs"]["submitted"]).toBeGreaterThanOrEqual(2);
    expect((await stack.emulator.usage()).jobs - before.jobs).toBe(final["jobs"]["submitted"]);
    // a-d fail as a job (4), then in halves a-b (fails again) and c-d (2 + 2); a and b, at their last
    // attempt, go through realtime once each.
    await expectBilled(stack.emulator, before, { inputs: 8, realtime: 2, jobs: 3 });
    const chapters = byId((await manifestOf(projectId)).chapters);
    expect(chapters["b"]).toMatchObject({ status: "succeeded", mode: "realtime" });
    // Halving the retried job isolates the culprit: at least one innocent chapter gets through in batch.
    expect(["a", "c", "d"].some((id) => chapters[id]?.mode === "batch")).toBe(true);
  });

  it("survives throttling and server errors on polls", async () => {
    const projectId = uniqueName("throttle");
    await uploadChapters(stack, projectId, { "a.txt": chapterText(10), "b.txt": chapterText(11) });
    const before = await stack.emulator.usage();
    await stack.emulator.setFault({ status: 500, method: "GET", count: 2 });
    await stack.emulator.setFault({ status: 429, count: 2 });
    expect((await startProject(stack, projectId)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({ runtimeStatus: "Completed", chapters: { succeeded: 2 } });
    await stack.emulator.clearFaults();
    await expectBilled(stack.emulator, before, { inputs: 2, jobs: 1 });
  });
});
