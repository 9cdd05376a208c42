import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import yauzl from "yauzl";
import { parseSettings } from "../../src/config/settings.js";
import { collectJob } from "../../src/pipeline/collect.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { checkJob, submitJob } from "../../src/pipeline/jobs.js";
import { decodeQueueMessage } from "../../src/pipeline/messages.js";
import { planProject } from "../../src/pipeline/planning/planRun.js";
import { audioPaths } from "../../src/pipeline/runState.js";
import { createPipelineDeps } from "../../src/pipeline/runtime.js";
import { listBlobs } from "../../src/storage/blobs.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import { chapterText } from "./e2eHarness.js";

/**
 * Collect reads results.zip with ranged reads against the Speech emulator over HTTP (Azurite for storage):
 * the first chapter is stored and announced while the end of the zip's audio has not been read at all, and
 * every input is billed once.
 */
let emulator: TestEmulator;
let deps: PipelineDeps;

interface Served {
  method: string;
  status: number;
  start?: number;
  end?: number;
  size?: number;
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  deps = createPipelineDeps(
    parseSettings({
      AzureWebJobsStorage: inject("azuriteConnectionString"),
      SPEECH_ENDPOINT: emulator.url,
      SPEECH_REALTIME_ENDPOINT: emulator.url,
      SPEECH_KEY: emulator.key,
      CHAPTERS_CONTAINER: uniqueName("chapters"),
      AUDIO_CONTAINER: uniqueName("audio"),
      VIDEO_QUEUE: uniqueName("video"),
      WORK_CONTAINER: uniqueName("work"),
    }),
  );
  await deps.storage.chapters.createIfNotExists();
  await deps.storage.audio.createIfNotExists();
  await deps.storage.videoQueue.createIfNotExists();
});

afterAll(async () => {
  await emulator?.stop();
});

async function served(id: string): Promise<Served[]> {
  const response = await fetch(`${emulator.url}/emulator/downloads?id=${encodeURIComponent(id)}`, {
    headers: { "Ocp-Apim-Subscription-Key": emulator.key },
  });
  return ((await response.json()) as { served: Served[] }).served;
}

/** Where each audio file's local header starts in the zip (from its central directory). */
async function audioOffsets(url: string): Promise<Map<string, number>> {
  const zip = Buffer.from(await (await fetch(url)).arrayBuffer());
  const file = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, z) => (error ? reject(error) : resolve(z))),
  );
  const offsets = new Map<string, number>();
  await new Promise<void>((resolve, reject) => {
    file.on("entry", (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith(".mp3")) offsets.set(entry.fileName, entry.relativeOffsetOfLocalHeader);
      file.readEntry();
    });
    file.once("end", resolve);
    file.once("error", reject);
    file.readEntry();
  });
  return offsets;
}

/** A project of `chapters` chapters, planned, submitted as one batch job and finished at the emulator. */
async function finishedJob(prefix: string, chapters: number, words: number) {
  const projectId = uniqueName(prefix);
  for (let i = 1; i <= chapters; i++) {
    const text = chapterText(i, words);
    await deps.storage.chapters
      .getBlockBlobClient(`${projectId}/c${String(i).padStart(2, "0")}.txt`)
      .upload(text, Buffer.byteLength(text));
  }
  const runId = "r1";
  const planned = await planProject(deps, { projectId, runId, instanceId: `tts-${projectId}`, request: {} });
  const options = {
    voice: planned.options.voice,
    outputFormat: planned.options.outputFormat,
    wordBoundaries: true,
  };
  const submitted = await submitJob(deps, { projectId, runId, jobNumber: 1, attempt: 1, options });
  if (!submitted.submitted) throw new Error("not submitted");
  const { synthesisId } = submitted;
  const done = await waitFor(
    async () => {
      const check = await checkJob(deps, { synthesisId });
      return check.status === "Succeeded" ? check : undefined;
    },
    { description: "the job" },
  );
  // What collecting it takes.
  const collect = {
    projectId,
    runId,
    jobNumber: 1,
    instanceId: `tts-${projectId}`,
    synthesisId,
    options,
    maxAttempts: 3,
  };
  return { projectId, synthesisId, done, collect };
}

describe("collect over ranged reads", () => {
  it("stores the first chapter before the last chapter's bytes are read, and bills each input once", async () => {
    const chapters = 8;
    const { projectId, synthesisId, collect } = await finishedJob("ranged", chapters, 400);

    // Every video message waits at a gate: the collect can get no further than the chapters it has open.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let sendsStarted = 0;
    const queue = deps.storage.videoQueue;
    const gatedQueue = new Proxy(queue, {
      get(target, property, receiver) {
        if (property === "sendMessage") {
          return async (...args: Parameters<typeof queue.sendMessage>) => {
            sendsStarted++;
            await gate;
            return target.sendMessage(...args);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    const gated: PipelineDeps = { ...deps, storage: { ...deps.storage, videoQueue: gatedQueue } };
    const collecting = collectJob(gated, collect);
    collecting.catch(() => {});
    await waitFor(async () => sendsStarted >= 1, { description: "the first chapter's message" });
    const atFirstMessage = await served(synthesisId);

    // The first chapter's audio is stored: its blob holds the whole file.
    const stored = (await listBlobs(deps.storage.audio, `${projectId}/`)).filter((b) =>
      b.name.endsWith(".mp3"),
    );
    expect(stored.length).toBeGreaterThanOrEqual(1);

    release();
    const tally = await collecting;
    expect(tally).toMatchObject({ succeeded: chapters, retry: 0, realtime: 0 });

    const resultUrl = (await deps.speech().batch.getSynthesis(synthesisId))?.resultUrl;
    if (!resultUrl) throw new Error("no result URL");
    const offsets = await audioOffsets(resultUrl);
    const last = offsets.get(`${String(chapters).padStart(4, "0")}.mp3`) as number;
    const size = atFirstMessage.find((s) => s.size !== undefined)?.size as number;
    expect(last).toBeGreaterThan(0);
    // Ranged reads only (no whole download), and none reached the last chapter's audio yet.
    const gets = atFirstMessage.filter((s) => s.method === "GET");
    expect(gets.length).toBeGreaterThan(0);
    expect(gets.every((s) => s.status === 206)).toBe(true);
    const dataReads = gets.filter((s) => (s.start as number) < size - 256 * 1024);
    expect(dataReads.every((s) => (s.end as number) < last)).toBe(true);

    // After the collect: every chapter stored with the bytes of its zip entry, announced once, billed once.
    const audio = (await listBlobs(deps.storage.audio, `${projectId}/`)).filter((b) =>
      b.name.endsWith(".mp3"),
    );
    expect(audio).toHaveLength(chapters);
    for (const blob of audio) expect(blob.properties.contentLength ?? 0).toBeGreaterThan(1000);
    const words = await deps.storage.audio
      .getBlockBlobClient(
        audioPaths.words(projectId, audio[0]?.name.split("/")[1]?.replace(/\.mp3$/, "") ?? ""),
      )
      .exists();
    expect(words).toBe(true);
    const usage = await emulator.usage();
    expect(usage.jobs).toBe(1);
    expect(usage.inputs).toBe(chapters);
  });

  it("firstChapterOnly stores the first chapter alone; the collection proper stores the rest and announces each once", async () => {
    const chapters = 4;
    const billedBefore = (await emulator.usage()).inputs;
    const { projectId, done, collect } = await finishedJob("first", chapters, 300);
    // The service's own timing of the job (lastActionDateTime − createdDateTime), for the poll plan.
    expect(done.serviceMs).toBeGreaterThan(0);
    const input = { ...collect, rate: { low: 1000, high: 1200 } };
    const mp3s = async () =>
      (await listBlobs(deps.storage.audio, `${projectId}/`)).filter((b) => b.name.endsWith(".mp3"));
    const messages = async () =>
      (await deps.storage.videoQueue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems
        .map((m) => decodeQueueMessage(m.messageText) as { projectId: string; chapterId: string })
        .filter((m) => m.projectId === projectId)
        .map((m) => m.chapterId);

    await collectJob(deps, { ...input, firstChapterOnly: true });
    const first = await deps.runs.listOutcomes(input);
    expect(first.map((o) => [o.chapterId, o.status])).toEqual([["c01", "succeeded"]]);
    expect((await mp3s()).map((b) => b.name)).toEqual([audioPaths.audio(projectId, "c01", "mp3")]);
    expect(await messages()).toEqual(["c01"]);
    // The job's rate is recorded by its collection proper, not by the first chapter's store.
    expect(await deps.runs.readThroughput("jobs")).toBeUndefined();

    const tally = await collectJob(deps, input);
    expect(tally).toMatchObject({ succeeded: chapters, retry: 0 });
    expect(await mp3s()).toHaveLength(chapters);
    expect((await messages()).sort()).toEqual(["c01", "c02", "c03", "c04"]);
    expect(await deps.runs.readThroughput("jobs")).toBeDefined();
    expect((await emulator.usage()).inputs - billedBefore).toBe(chapters);
  });
});
