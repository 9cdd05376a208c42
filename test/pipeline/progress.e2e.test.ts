import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { waitFor } from "../../tools/shared/waitFor.js";
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

/**
 * Progress per job (CONTRACT §2-§3): one lane of four jobs runs as one wave, yet while the run is still
 * Running its customStatus (GET status and the Durable status endpoint) counts the first job's chapters
 * and the manifest lists them as succeeded. Time is scaled 10× (not 1000×) so each later job spends at
 * least half a second at the service: the test waits for conditions, never for a duration.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startStack(inject("azuriteConnectionString"), {}, { timeScale: 10 }, 10);
});

afterAll(async () => {
  await stack?.stop();
});

describe("progress while a wave runs", () => {
  it("customStatus and the manifest move as each job finishes, not when the wave ends", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("progress");
    const files: Record<string, string> = {};
    for (let i = 1; i <= 8; i++) files[`ch${i}.txt`] = chapterText(i, 40);
    await uploadChapters(stack, projectId, files);
    const before = await stack.emulator.usage();

    // Four jobs of two chapters, one at a time: a single wave of one lane.
    const start = await startProject(stack, projectId, { maxChaptersPerJob: 2, maxConcurrentJobs: 1 });
    expect(start.status).toBe(202);

    // Mid-run: some chapters counted, some still pending (before, all eight came at once when the wave ended).
    const midRun = (chapters: { succeeded: number; pending: number } | undefined) =>
      chapters !== undefined && chapters.succeeded > 0 && chapters.pending > 0;
    const seen = await waitFor(
      async () => {
        const status = await api(stack, "GET", `/api/projects/${projectId}/synthesis`);
        if (status.body["runtimeStatus"] !== "Running" || !midRun(status.body["chapters"])) return;
        const durable = await api(stack, "GET", `/runtime/webhooks/durabletask/instances/tts-${projectId}`);
        if (durable.body["runtimeStatus"] !== "Running" || !midRun(durable.body["customStatus"]?.chapters))
          return;
        const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`).catch(() => undefined);
        const statusOf = (id: string) =>
          manifest?.chapters.find((c: { chapterId: string }) => c.chapterId === id)?.status;
        if (
          statusOf("ch1") !== "succeeded" ||
          statusOf("ch2") !== "succeeded" ||
          statusOf("ch8") !== "pending"
        )
          return;
        return { status: status.body, durable: durable.body, manifest };
      },
      { timeoutMs: 120_000, intervalMs: 50, description: "the first job's chapters counted while running" },
    );
    expect(seen.status["chapters"]).toMatchObject({ total: 8 });
    expect(seen.durable["customStatus"]).toMatchObject({ phase: "synthesizing" });
    expect(seen.manifest).toMatchObject({ status: "running", totals: { completedAt: null } });
    expect(seen.manifest.totals.succeeded).toBeGreaterThanOrEqual(2);
    expect(seen.manifest.totals.pending).toBeGreaterThan(0);

    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({
      runtimeStatus: "Completed",
      phase: "completed",
      chapters: { total: 8, succeeded: 8, failed: 0, pending: 0 },
      jobs: { submitted: 4, running: 0, succeeded: 4, failed: 0 },
    });
    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    expect(manifest).toMatchObject({ status: "completed", totals: { succeeded: 8, batchJobs: 4 } });
    expect(manifest.mergedJobs).toEqual([1, 2, 3, 4]);
    // Each chapter paid once, in four jobs.
    await expectBilled(stack.emulator, before, { inputs: 8, jobs: 4 });
    expect((await stack.drainMessages()).filter((m) => m.projectId === projectId)).toHaveLength(8);
  });
});
