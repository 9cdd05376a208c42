import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
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

/**
 * The create-body limit is 2 MB per the articles and 500 KB per the 2024-04-01 spec. A job the service refuses as
 * too large is split into smaller jobs without spending its chapters' attempts. The app packs jobs up to
 * MAX_JOB_PAYLOAD_BYTES (60,000 bytes here); the emulator accepts 12,000 and answers more with a 413 (the 400
 * form is covered in payload.test.ts).
 */
vi.setConfig({ testTimeout: E2E_TIMEOUT_MS });

const LIMIT = 12_000;
let stack: Stack;
beforeAll(async () => {
  stack = await startStack(
    inject("azuriteConnectionString"),
    // A long job deadline: a loaded machine must not time a job out (a timeout would re-bill it).
    { MAX_JOB_PAYLOAD_BYTES: "60000", MAX_CHAPTER_ATTEMPTS: "2", JOB_TIMEOUT_MINUTES: "6000" },
    { maxPayloadBytes: LIMIT, payloadTooLargeStatus: 413 },
  );
});
afterAll(async () => {
  await stack?.stop();
});

type ManifestChapter = { chapterId: string; status: string; mode: string | null; attempts: number };

describe("a create refused as too large (413)", () => {
  it("re-splits the job, spends no chapter attempt and bills every chapter once", async () => {
    const projectId = uniqueName("payload");
    // Six chapters of ~4,500 bytes: one ~27 KB job for the app, more than twice the emulator's limit.
    const files = Object.fromEntries(
      [1, 2, 3, 4, 5, 6].map((n) => [`c${n}.txt`, chapterText(20 + n, 700)] as const),
    );
    for (const text of Object.values(files)) expect(Buffer.byteLength(text)).toBeLessThan(LIMIT / 2);
    await uploadChapters(stack, projectId, files);
    expect((await startProject(stack, projectId)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({
      runtimeStatus: "Completed",
      chapters: { total: 6, succeeded: 6, failed: 0 },
    });

    const manifest = (await readJsonBlob(stack.audio, `${projectId}/manifest.json`)) as {
      chapters: ManifestChapter[];
      totals: { billableCharacters: number };
    };
    for (const chapter of manifest.chapters) {
      // All in batch, on their first counted attempt (MAX_CHAPTER_ATTEMPTS 2 would otherwise be at 2 or realtime).
      expect(chapter, chapter.chapterId).toMatchObject({ status: "succeeded", mode: "batch", attempts: 1 });
    }
    const usage = await stack.emulator.usage();
    // Billing exactly once: six inputs billed (a refused create bills nothing), nothing in realtime, and the
    // manifest's billable characters are what the emulator billed.
    expect(usage.inputs).toBe(6);
    expect(usage.realtimeCharacters).toBe(0);
    expect(usage.jobs).toBeGreaterThanOrEqual(3); // ~27 KB under 12 KB a job
    expect(usage.billableCharacters).toBe(manifest.totals.billableCharacters);
  });
});
