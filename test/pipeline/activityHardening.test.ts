import { RestError } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseSettings } from "../../src/config/settings.js";
import { collectJob } from "../../src/pipeline/collect.js";
import type { SynthesisOptions } from "../../src/pipeline/contracts.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { checkJob, deleteJob, submitJob } from "../../src/pipeline/jobs.js";
import { type Manifest, writeManifest } from "../../src/pipeline/manifest.js";
import { planProject } from "../../src/pipeline/planning/planRun.js";
import { synthesizeChapterRealtime } from "../../src/pipeline/realtime.js";
import { audioPaths, runPaths } from "../../src/pipeline/runState.js";
import { createPipelineDeps } from "../../src/pipeline/runtime.js";
import { listBlobs, readJson, writeJson } from "../../src/storage/blobs.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import { workContainer } from "../support/workContainer.js";
import { chapterText } from "./e2eHarness.js";

/**
 * At-least-once delivery (issue 8 §4), activity side, against Azurite and the Speech emulator: copies of
 * an activity running at the same time or late must not lose a merge, pay twice, re-create a deleted job
 * or write for a run that has ended. Each test uses its own emulator so its bill is its own.
 */
let deps: PipelineDeps;
let emulator: TestEmulator;

function depsFor(em: TestEmulator, now?: () => Date): PipelineDeps {
  const settings = parseSettings({
    AzureWebJobsStorage: inject("azuriteConnectionString"),
    SPEECH_ENDPOINT: em.url,
    SPEECH_REALTIME_ENDPOINT: em.url,
    SPEECH_KEY: em.key,
    CHAPTERS_CONTAINER: deps?.settings.CHAPTERS_CONTAINER ?? uniqueName("chapters"),
    AUDIO_CONTAINER: deps?.settings.AUDIO_CONTAINER ?? uniqueName("audio"),
    VIDEO_QUEUE: deps?.settings.VIDEO_QUEUE ?? uniqueName("video"),
    WORK_CONTAINER: deps?.settings.WORK_CONTAINER ?? uniqueName("work"),
  });
  const created = createPipelineDeps(settings);
  return now ? { ...created, now } : created;
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  deps = depsFor(emulator);
  await deps.storage.chapters.createIfNotExists();
  await deps.storage.audio.createIfNotExists();
  await deps.storage.videoQueue.createIfNotExists();
});

afterAll(async () => {
  await emulator?.stop();
});

async function uploadChapters(projectId: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const text = chapterText(i);
    await deps.storage.chapters
      .getBlockBlobClient(`${projectId}/c${String(i).padStart(2, "0")}.txt`)
      .upload(text, Buffer.byteLength(text));
  }
}

async function plan(projectId: string, runId: string, request: object, with_ = deps) {
  return planProject(with_, { projectId, runId, instanceId: `tts-${projectId}`, request });
}

async function readManifest(projectId: string): Promise<Manifest | undefined> {
  return readJson<Manifest>(deps.storage.audio, audioPaths.manifest(projectId));
}

/** Video messages of one project (peeked: the shared test queue is never drained here). */
async function messagesOf(projectId: string): Promise<string[]> {
  const ids: string[] = [];
  const peeked = await deps.storage.videoQueue.peekMessages({ numberOfMessages: 32 });
  for (const m of peeked.peekedMessageItems) {
    const body = JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")) as {
      projectId: string;
      chapterId: string;
    };
    if (body.projectId === projectId) ids.push(body.chapterId);
  }
  return ids;
}

async function audioBlobsOf(projectId: string): Promise<string[]> {
  return (await listBlobs(deps.storage.audio, `${projectId}/`))
    .map((b) => b.name)
    .filter((n) => n.endsWith(".mp3"));
}

/** The run's voice and format, as the orchestrator hands them to activities. */
function optionsOf(planned: { options: { voice: string; outputFormat: string } }, wordBoundaries: boolean) {
  return { voice: planned.options.voice, outputFormat: planned.options.outputFormat, wordBoundaries };
}

/** The chapter id of a single-chapter job, from the job list planning saved. */
async function firstChapterOf(d: PipelineDeps, projectId: string, runId: string, jobNumber: number) {
  const spec = await readJson<{ chapters: { chapterId: string }[] }>(
    workContainer(d),
    runPaths.job(projectId, runId, jobNumber),
  );
  return spec?.chapters[0]?.chapterId as string;
}

/** Submits job 1 of a run and waits until the service has finished it; returns its synthesis id. */
async function submitFinishedJob(
  d: PipelineDeps,
  projectId: string,
  runId: string,
  options: SynthesisOptions,
) {
  const first = await submitJob(d, { projectId, runId, jobNumber: 1, attempt: 1, options });
  if (!first.submitted) throw new Error("not submitted");
  const { synthesisId } = first;
  await waitFor(async () => (await checkJob(d, { synthesisId })).status === "Succeeded", {
    description: "the job",
  });
  return synthesisId;
}

/** The collect input of job 1 of a run. */
function collectInput(projectId: string, runId: string, synthesisId: string, options: SynthesisOptions) {
  return {
    projectId,
    runId,
    jobNumber: 1,
    instanceId: `tts-${projectId}`,
    synthesisId,
    options,
    maxAttempts: 3,
  };
}

const manifestWrite = (projectId: string, runId: string, jobNumbers: number[], completedAt?: string) => ({
  projectId,
  runId,
  jobNumbers,
  startedAt: "2026-01-01T00:00:00.000Z",
  ...(completedAt ? { completedAt } : {}),
  batchJobs: 0,
  speechRequests: 0,
  billableCharacters: 0,
});

describe("WriteManifest under concurrent writers", () => {
  it("never loses a merge: writers of different jobs at once all land", async () => {
    const projectId = uniqueName("etag");
    const jobs = 6;
    await uploadChapters(projectId, jobs);
    const runId = "r1";
    const planned = await plan(projectId, runId, { maxChaptersPerJob: 1 });
    expect(planned.jobs).toHaveLength(jobs);
    const jobList = await readJson<{ chapters: { chapterId: string }[] }>(
      workContainer(deps),
      runPaths.job(projectId, runId, 1),
    );
    expect(jobList?.chapters).toHaveLength(1);
    // Each job's single chapter has an outcome (as collect leaves it).
    for (let jobNumber = 1; jobNumber <= jobs; jobNumber++) {
      await deps.runs.writeOutcome(
        { projectId, runId, jobNumber },
        {
          chapterId: await firstChapterOf(deps, projectId, runId, jobNumber),
          jobNumber,
          status: "succeeded",
          attempts: 1,
          mode: "batch",
          audioBlob: `${projectId}/x.mp3`,
          durationMs: 1000,
          sizeBytes: 10,
        },
      );
    }
    await writeManifest(deps, manifestWrite(projectId, runId, []));
    // Six writers at once, one job each: a read-modify-write without ETags keeps only some of them.
    await Promise.all(
      Array.from({ length: jobs }, (_, i) => writeManifest(deps, manifestWrite(projectId, runId, [i + 1]))),
    );
    const manifest = await readManifest(projectId);
    expect([...(manifest?.mergedJobs ?? [])].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(manifest?.chapters.map((c) => c.status)).toEqual(Array(jobs).fill("succeeded"));
  });

  it("the final write merges every finished job, even one whose per-job write never happened", async () => {
    const projectId = uniqueName("final");
    await uploadChapters(projectId, 2);
    const runId = "r1";
    await plan(projectId, runId, { maxChaptersPerJob: 1 });
    await writeManifest(deps, manifestWrite(projectId, runId, []));
    for (const jobNumber of [1, 2]) {
      await deps.runs.writeOutcome(
        { projectId, runId, jobNumber },
        {
          chapterId: await firstChapterOf(deps, projectId, runId, jobNumber),
          jobNumber,
          status: "succeeded",
          attempts: 1,
          mode: "batch",
          audioBlob: `${projectId}/x.mp3`,
        },
      );
    }
    // Job 1 merged; job 2's outcome exists but its per-job write was lost (a crash): the final write finds it.
    await writeManifest(deps, manifestWrite(projectId, runId, [1]));
    const totals = await writeManifest(deps, manifestWrite(projectId, runId, [], "2026-01-01T00:05:00.000Z"));
    expect(totals).toMatchObject({ succeeded: 2, failed: 0, pending: 0 });
    // A late copy of a per-job write after completion changes nothing.
    const before = await deps.storage.audio.getBlobClient(audioPaths.manifest(projectId)).getProperties();
    await writeManifest(deps, manifestWrite(projectId, runId, [2]));
    const after = await deps.storage.audio.getBlobClient(audioPaths.manifest(projectId)).getProperties();
    expect(after.etag).toBe(before.etag);
  });
});

describe("realtime claim", () => {
  it("two copies of the activity for one chapter at once pay for it once and announce it once", async () => {
    const em = await startTestEmulator();
    try {
      const d = depsFor(em);
      const projectId = uniqueName("claim");
      await uploadChapters(projectId, 1);
      const runId = "r1";
      const planned = await plan(projectId, runId, { mode: "realtime" }, d);
      expect(planned.jobs[0]?.mode).toBe("realtime");
      const options = optionsOf(planned, false);
      const input = {
        projectId,
        runId,
        jobNumber: planned.jobs[0]?.jobNumber as number,
        instanceId: `tts-${projectId}`,
        position: 0,
        options,
      };
      const timing = { leaseMs: 60_000, renewMs: 1_000, pollMs: 20 };
      const [a, b] = await Promise.all([
        synthesizeChapterRealtime(d, input, { claimTiming: timing }),
        synthesizeChapterRealtime(d, input, { claimTiming: timing }),
      ]);
      expect(a).toMatchObject({ succeeded: 1 });
      expect(b).toMatchObject({ succeeded: 1 });
      const usage = await em.usage();
      expect(usage.requests.realtime).toBe(1);
      // Billed once: the characters of one synthesis, as the copy that synthesized reports them.
      expect(usage.realtimeCharacters).toBe(Math.max(a.billableCharacters, b.billableCharacters));
      expect(await messagesOf(projectId)).toHaveLength(1);
      expect(await audioBlobsOf(projectId)).toHaveLength(1);
    } finally {
      await em.stop();
    }
  });

  it("a copy that finds a claim nobody renews any more (its holder died) takes it over after the lease", async () => {
    const em = await startTestEmulator();
    try {
      const d = depsFor(em);
      const projectId = uniqueName("stale");
      await uploadChapters(projectId, 1);
      const runId = "r1";
      const planned = await plan(projectId, runId, { mode: "realtime" }, d);
      const jobNumber = planned.jobs[0]?.jobNumber as number;
      // The claim of a copy killed before it called Speech.
      const chapterId = await firstChapterOf(d, projectId, runId, jobNumber);
      await writeJson(workContainer(d), runPaths.chapterClaim(projectId, runId, jobNumber, chapterId), {});
      const tally = await synthesizeChapterRealtime(
        d,
        {
          projectId,
          runId,
          jobNumber,
          instanceId: `tts-${projectId}`,
          position: 0,
          options: optionsOf(planned, false),
        },
        { claimTiming: { leaseMs: 300, renewMs: 100, pollMs: 20 } },
      );
      expect(tally).toMatchObject({ succeeded: 1 });
      expect((await em.usage()).requests.realtime).toBe(1);
    } finally {
      await em.stop();
    }
  });
});

describe("realtime input", () => {
  it("a storage error reading the chapter is retried (no outcome, claim given back, nothing paid); a source that is gone is the chapter's failure", async () => {
    const em = await startTestEmulator();
    try {
      const d = depsFor(em);
      const projectId = uniqueName("rtinput");
      await uploadChapters(projectId, 2);
      const runId = "r1";
      const planned = await plan(projectId, runId, { mode: "realtime" }, d);
      const jobNumber = planned.jobs[0]?.jobNumber as number;
      const input = (position: number) => ({
        projectId,
        runId,
        jobNumber,
        instanceId: `tts-${projectId}`,
        position,
        options: optionsOf(planned, false),
      });
      // The chapters container answers one read with 503 (after the SDK's own retries, as Azure can).
      let failures = 1;
      const chapters = d.storage.chapters;
      const flaky = new Proxy(chapters, {
        get(target, property, receiver) {
          if (property !== "getBlobClient") return Reflect.get(target, property, receiver);
          return (name: string) => {
            const blob = target.getBlobClient(name);
            return new Proxy(blob, {
              get(b, p, r) {
                if (p === "downloadToBuffer" && failures > 0) {
                  failures--;
                  return async () => {
                    throw new RestError("Server busy", { statusCode: 503 });
                  };
                }
                return Reflect.get(b, p, r);
              },
            });
          };
        },
      });
      const flakyDeps = { ...d, storage: { ...d.storage, chapters: flaky } };
      const timing = { leaseMs: 60_000, renewMs: 1_000, pollMs: 20 };
      await expect(synthesizeChapterRealtime(flakyDeps, input(0), { claimTiming: timing })).rejects.toThrow(
        /Server busy/,
      );
      const chapterId = await firstChapterOf(d, projectId, runId, jobNumber);
      expect(await d.runs.readOutcome({ projectId, runId, jobNumber }, chapterId)).toBeUndefined();
      expect((await em.usage()).requests.realtime ?? 0).toBe(0);
      // The retry runs at once (the claim was given back, not left to its 60 s lease) and succeeds.
      expect(await synthesizeChapterRealtime(d, input(0), { claimTiming: timing })).toMatchObject({
        succeeded: 1,
      });
      expect((await em.usage()).requests.realtime).toBe(1);

      // A chapter whose source was deleted after planning fails with its reason, and pays nothing.
      await d.storage.chapters.deleteBlob(`${projectId}/c02.txt`);
      expect(await synthesizeChapterRealtime(d, input(1), { claimTiming: timing })).toMatchObject({
        failed: 1,
      });
      const spec = await d.runs.readJob({ projectId, runId, jobNumber });
      const second = spec?.chapters[1]?.chapterId as string;
      expect(await d.runs.readOutcome({ projectId, runId, jobNumber }, second)).toMatchObject({
        status: "failed",
        reason: expect.stringMatching(/is gone or can no longer be read/),
      });
      expect((await em.usage()).requests.realtime).toBe(1);
    } finally {
      await em.stop();
    }
  });
});

describe("collect", () => {
  it("two copies of one job's collect at once store and announce each chapter once", async () => {
    const em = await startTestEmulator();
    try {
      const d = depsFor(em);
      const projectId = uniqueName("twocollect");
      await uploadChapters(projectId, 4);
      const runId = "r1";
      const planned = await plan(projectId, runId, {}, d);
      const options = optionsOf(planned, true);
      const synthesisId = await submitFinishedJob(d, projectId, runId, options);
      const collect = collectInput(projectId, runId, synthesisId, options);
      const [a, b] = await Promise.all([collectJob(d, collect), collectJob(d, collect)]);
      expect(a).toMatchObject({ succeeded: 4, retry: 0 });
      expect(b).toMatchObject({ succeeded: 4, retry: 0 });
      const messages = await messagesOf(projectId);
      expect(messages.sort()).toEqual([...new Set(messages)].sort());
      expect(messages).toHaveLength(4);
      expect((await em.usage()).inputs).toBe(4);
    } finally {
      await em.stop();
    }
  });
});

describe("a batch job deleted after collection", () => {
  it("is not created again by a redelivered submit, and reads as finished, not lost", async () => {
    const em = await startTestEmulator();
    try {
      const d = depsFor(em);
      const projectId = uniqueName("deleted");
      await uploadChapters(projectId, 2);
      const runId = "r1";
      const planned = await plan(projectId, runId, {}, d);
      const options = optionsOf(planned, false);
      const synthesisId = await submitFinishedJob(d, projectId, runId, options);
      const submit = { projectId, runId, jobNumber: 1, attempt: 1, options };
      const collect = collectInput(projectId, runId, synthesisId, options);
      expect(await collectJob(d, collect)).toMatchObject({ succeeded: 2 });
      await deleteJob(d, { projectId, runId, synthesisId });
      expect((await em.usage()).jobs).toBe(1);

      // The submit, its status check and the collect delivered again after the delete.
      expect(await submitJob(d, submit)).toMatchObject({ submitted: true, synthesisId });
      expect(await checkJob(d, { synthesisId })).toEqual({ status: "Succeeded" });
      const before = await em.usage();
      expect(await collectJob(d, collect)).toMatchObject({ succeeded: 2, retry: 0 });
      const after = await em.usage();
      expect(after.jobs).toBe(1);
      expect(after.inputs).toBe(2);
      expect(after.requests.create).toBe(before.requests.create);
      expect(await messagesOf(projectId)).toHaveLength(2);
    } finally {
      await em.stop();
    }
  });
});

describe("a run that has ended", () => {
  it("cancelled: writes no manifest, stores no chapter, pays nothing", async () => {
    const em = await startTestEmulator();
    try {
      const d = depsFor(em);
      const projectId = uniqueName("cancelled");
      await uploadChapters(projectId, 2);
      const runId = "r1";
      const planned = await plan(projectId, runId, {}, d);
      const options = optionsOf(planned, false);
      const synthesisId = await submitFinishedJob(d, projectId, runId, options);
      await writeJson(workContainer(d), runPaths.cancelled(projectId, runId), {
        cancelledAt: new Date().toISOString(),
      });

      await writeManifest(d, manifestWrite(projectId, runId, [1], "2026-01-01T00:05:00.000Z"));
      expect(await readManifest(projectId)).toBeUndefined();
      await collectJob(d, collectInput(projectId, runId, synthesisId, options));
      expect(await audioBlobsOf(projectId)).toEqual([]);
      expect(await messagesOf(projectId)).toEqual([]);

      const realtimeRun = "r2";
      const rt = await plan(projectId, realtimeRun, { mode: "realtime" }, d);
      await writeJson(workContainer(d), runPaths.cancelled(projectId, realtimeRun), {});
      await synthesizeChapterRealtime(d, {
        projectId,
        runId: realtimeRun,
        jobNumber: rt.jobs[0]?.jobNumber as number,
        instanceId: `tts-${projectId}`,
        position: 0,
        options,
      });
      expect((await em.usage()).requests.realtime).toBe(0);
      expect(await audioBlobsOf(projectId)).toEqual([]);
    } finally {
      await em.stop();
    }
  });

  it("superseded by a newer run: its late writes leave the newer run's manifest and chapters alone", async () => {
    const em = await startTestEmulator();
    try {
      const projectId = uniqueName("superseded");
      await uploadChapters(projectId, 2);
      const older = depsFor(em, () => new Date("2026-01-01T00:00:00.000Z"));
      const newer = depsFor(em, () => new Date("2026-01-01T01:00:00.000Z"));
      const oldPlan = await plan(projectId, "r-old", {}, older);
      const options = optionsOf(oldPlan, false);
      const synthesisId = await submitFinishedJob(older, projectId, "r-old", options);
      // The newer run starts and takes the manifest.
      await plan(projectId, "r-new", { force: true }, newer);
      await writeManifest(newer, manifestWrite(projectId, "r-new", []));
      const owned = await deps.storage.audio.getBlobClient(audioPaths.manifest(projectId)).getProperties();

      // Late copies of the older run's activities.
      await collectJob(older, collectInput(projectId, "r-old", synthesisId, options));
      await writeManifest(older, manifestWrite(projectId, "r-old", [1], "2026-01-01T00:05:00.000Z"));
      expect(await audioBlobsOf(projectId)).toEqual([]);
      expect(await messagesOf(projectId)).toEqual([]);
      const manifest = await readManifest(projectId);
      expect(manifest?.runId).toBe("r-new");
      expect(
        (await deps.storage.audio.getBlobClient(audioPaths.manifest(projectId)).getProperties()).etag,
      ).toBe(owned.etag);
    } finally {
      await em.stop();
    }
  });
});
