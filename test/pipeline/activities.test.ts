import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseSettings } from "../../src/config/settings.js";
import { collectJob } from "../../src/pipeline/collect.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { checkJob, deleteJob, readResultUrl, submitJob } from "../../src/pipeline/jobs.js";
import { writeManifest } from "../../src/pipeline/manifest.js";
import { planProject } from "../../src/pipeline/planning/planRun.js";
import { createPipelineDeps } from "../../src/pipeline/runtime.js";
import { listBlobs, readJson } from "../../src/storage/blobs.js";
import { createStorageClients } from "../../src/storage/clients.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import { workContainer } from "../support/workContainer.js";
import { chapterText } from "./e2eHarness.js";

/** The activities themselves against Azurite and the emulator: idempotent when run again. */
let emulator: TestEmulator;
let deps: PipelineDeps;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const settings = parseSettings({
    AzureWebJobsStorage: inject("azuriteConnectionString"),
    SPEECH_ENDPOINT: emulator.url,
    SPEECH_REALTIME_ENDPOINT: emulator.url,
    SPEECH_KEY: emulator.key,
    CHAPTERS_CONTAINER: uniqueName("chapters"),
    AUDIO_CONTAINER: uniqueName("audio"),
    VIDEO_QUEUE: uniqueName("video"),
    WORK_CONTAINER: uniqueName("work"),
  });
  deps = createPipelineDeps(settings);
  await deps.storage.chapters.createIfNotExists();
});

afterAll(async () => {
  await emulator?.stop();
});

describe("storage clients", () => {
  it("build identity-based clients from the account name or service URIs, never a key", () => {
    const byName = createStorageClients(
      {
        AzureWebJobsStorage__accountName: "acct",
        CHAPTERS_CONTAINER: "chapters",
        AUDIO_CONTAINER: "audio",
        VIDEO_QUEUE: "video-requests",
      },
      { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }) },
    );
    expect(byName.audio.url).toBe("https://acct.blob.core.windows.net/audio");
    expect(byName.videoQueue.url).toBe("https://acct.queue.core.windows.net/video-requests");
    const byUri = createStorageClients(
      {
        AzureWebJobsStorage__blobServiceUri: "https://custom.blob.core.windows.net",
        CHAPTERS_CONTAINER: "chapters",
        AUDIO_CONTAINER: "audio",
        VIDEO_QUEUE: "video-requests",
      },
      { getToken: async () => null },
    );
    expect(byUri.chapters.url).toBe("https://custom.blob.core.windows.net/chapters");
    expect(byUri.videoQueue.url).toBe("https://custom.queue.core.windows.net/video-requests");
  });

  it("reads a missing blob as undefined and lists a missing container as empty", async () => {
    expect(await readJson(workContainer(deps), "nothing/here.json")).toBeUndefined();
    const missing = deps.storage.blobs.getContainerClient(uniqueName("missing"));
    expect(await listBlobs(missing, "x/")).toEqual([]);
  });
});

describe("activities", () => {
  it("plan, submit, collect and manifest can each run twice with the same result", async () => {
    const projectId = uniqueName("idem");
    for (let i = 1; i <= 3; i++) {
      const text = chapterText(i);
      await deps.storage.chapters
        .getBlockBlobClient(`${projectId}/c${i}.txt`)
        .upload(text, Buffer.byteLength(text));
    }
    const runId = "r1";
    const planInput = { projectId, runId, instanceId: `tts-${projectId}`, request: {} };
    const plan = await planProject(deps, planInput);
    expect(plan.counts).toMatchObject({ total: 3, pending: 3 });
    expect(await planProject(deps, planInput)).toEqual(plan);

    const options = {
      voice: plan.options.voice,
      outputFormat: plan.options.outputFormat,
      wordBoundaries: true,
    };
    const submitInput = { projectId, runId, jobNumber: 1, attempt: 1, options };
    const first = await submitJob(deps, submitInput);
    const again = await submitJob(deps, submitInput);
    expect(again).toMatchObject({ submitted: true });
    expect(first.submitted && again.submitted && again.synthesisId === first.synthesisId).toBe(true);
    const usage = await emulator.usage();
    expect(usage.jobs).toBe(1);
    const synthesisId = first.submitted ? first.synthesisId : "";

    await waitFor(async () => (await checkJob(deps, { synthesisId })).status === "Succeeded", {
      description: "the job",
    });
    const collect = {
      projectId,
      runId,
      jobNumber: 1,
      instanceId: `tts-${projectId}`,
      synthesisId,
      options,
      maxAttempts: 3,
      // The throughput the job's lane measured: kept as the prior of later runs' first jobs.
      rate: { low: 2_000, high: 2_100 },
    };
    expect(plan.tuning.priorRate).toBeUndefined();
    // The check that saw the job succeed recorded its result URL (in the work container, not in its
    // result, which goes to orchestration history): collect downloads without reading the job again.
    expect(JSON.stringify(await checkJob(deps, { synthesisId }))).not.toContain("sig=");
    expect(await readResultUrl(deps, synthesisId)).toMatch(/^https?:/);
    const getsBeforeCollect = (await emulator.usage()).requests.get;
    const tally = await collectJob(deps, collect);
    expect(tally).toMatchObject({ succeeded: 3, failed: 0, retry: 0, speechRequests: 0 });
    expect((await emulator.usage()).requests.get).toBe(getsBeforeCollect);
    const rerun = await collectJob(deps, collect);
    expect(rerun).toMatchObject({ succeeded: 3 });
    const next = await planProject(deps, { ...planInput, runId: "r2" });
    expect(next.tuning.priorRate).toEqual({ low: 2_000, high: 2_100 });
    // Saved with the plan: a replayed planning of that run sees the same prior, whatever was measured since.
    await collectJob(deps, { ...collect, rate: { low: 3_000, high: 3_100 } });
    expect((await planProject(deps, { ...planInput, runId: "r2" })).tuning.priorRate).toEqual({
      low: 2_000,
      high: 2_100,
    });
    // A pilot's collect (planning/pilot.ts) records the pilots' prior, never the full jobs' one.
    await collectJob(deps, { ...collect, pilot: true, rate: { low: 1_000, high: 1_100 } });
    expect((await deps.runs.readThroughput("pilot"))?.rate).toEqual({ low: 1_000, high: 1_100 });
    expect((await deps.runs.readThroughput())?.rate).toEqual({ low: 3_000, high: 3_100 });
    // A run planned with a pilot (more jobs than slots) gets the pilots' prior as well.
    const piloted = await planProject(
      { ...deps, settings: { ...deps.settings, PILOT_CHAPTERS: 1 } },
      { ...planInput, runId: "r3", request: { maxChaptersPerJob: 2, maxConcurrentJobs: 1, force: true } },
    );
    expect(piloted.jobs.map((j) => [j.chapters, j.pilot ?? false])).toEqual([
      [1, true],
      [1, false],
      [1, false],
    ]);
    expect(piloted.tuning).toMatchObject({
      pilotChapters: 1,
      pilotPriorRate: { low: 1_000, high: 1_100 },
      priorRate: { low: 3_000, high: 3_100 },
    });
    const queue = QueueServiceClient.fromConnectionString(inject("azuriteConnectionString")).getQueueClient(
      deps.settings.VIDEO_QUEUE,
    );
    expect((await queue.getProperties()).approximateMessagesCount).toBe(3);

    await deleteJob(deps, { projectId, runId, synthesisId });
    await deleteJob(deps, { projectId, runId, synthesisId });
    expect(await readResultUrl(deps, synthesisId)).toBeUndefined();
    // Gone from the service, but deleted by us after collecting: a late status check reads it as finished.
    expect((await checkJob(deps, { synthesisId })).status).toBe("Succeeded");

    const manifestInput = {
      projectId,
      runId,
      jobNumbers: [1],
      startedAt: "2026-01-01T00:00:00.000Z",
      completedAt: "2026-01-01T00:01:00.000Z",
      batchJobs: 1,
      speechRequests: 4,
      billableCharacters: tally.billableCharacters,
    };
    const totals = await writeManifest(deps, manifestInput);
    expect(await writeManifest(deps, manifestInput)).toEqual(totals);
    expect(totals).toMatchObject({ chapters: 3, succeeded: 3, pending: 0, batchJobs: 1 });
  });
});
