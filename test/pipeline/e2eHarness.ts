import path from "node:path";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { type QueueClient, QueueServiceClient } from "@azure/storage-queue";
import { decodeQueueMessage, type VideoMessage, videoMessageSchema } from "../../src/pipeline/messages.js";
import type { EmulatorOptions } from "../../tools/emulator/index.js";
import { startLocalHost } from "../../tools/local-host/index.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { buildApp } from "../support/build.js";
import type { Usage } from "../support/emulator.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";

export { buildApp };

/**
 * One end-to-end stack per test file: the app built into dist/, the local Functions host running it
 * in-process (real durable-functions replay), the Speech emulator and the suite's Azurite, all on
 * unique names, with time scaled so a book takes seconds.
 */
export interface Stack {
  api: string;
  emulator: TestEmulator;
  chapters: ContainerClient;
  audio: ContainerClient;
  work: ContainerClient;
  queue: QueueClient;
  stop(): Promise<void>;
  /** Every video message received so far (drained from the queue). */
  drainMessages(): Promise<VideoMessage[]>;
}

const repoRoot = path.resolve(import.meta.dirname, "../..");
export async function startStack(
  connectionString: string,
  env: Record<string, string> = {},
  emulatorOptions: EmulatorOptions = {},
  /** The host's virtual clock speed (timers, polls); slower lets a test watch a run in progress. */
  hostTimeScale = 1000,
): Promise<Stack> {
  await buildApp();
  const emulator = await startTestEmulator(emulatorOptions);
  const names = {
    CHAPTERS_CONTAINER: uniqueName("chapters"),
    AUDIO_CONTAINER: uniqueName("audio"),
    VIDEO_QUEUE: uniqueName("video"),
    WORK_CONTAINER: uniqueName("work"),
  };
  const host = await startLocalHost({
    appDir: repoRoot,
    port: 0,
    storageConnectionString: connectionString,
    taskHub: uniqueName("hub"),
    timeScale: hostTimeScale,
    env: {
      AzureWebJobsStorage: connectionString,
      SPEECH_ENDPOINT: emulator.url,
      SPEECH_REALTIME_ENDPOINT: emulator.url,
      SPEECH_KEY: emulator.key,
      ...names,
      ...env,
    },
  });
  const blobs = BlobServiceClient.fromConnectionString(connectionString);
  const queues = QueueServiceClient.fromConnectionString(connectionString);
  const chapters = blobs.getContainerClient(names.CHAPTERS_CONTAINER);
  await chapters.createIfNotExists();
  const queue = queues.getQueueClient(names.VIDEO_QUEUE);
  const received: VideoMessage[] = [];
  return {
    api: host.url,
    emulator,
    chapters,
    audio: blobs.getContainerClient(names.AUDIO_CONTAINER),
    work: blobs.getContainerClient(names.WORK_CONTAINER),
    queue,
    async drainMessages() {
      if (!(await queue.exists())) return received;
      for (;;) {
        const batch = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
        if (batch.receivedMessageItems.length === 0) break;
        for (const item of batch.receivedMessageItems) {
          received.push(videoMessageSchema.parse(decodeQueueMessage(item.messageText)));
          await queue.deleteMessage(item.messageId, item.popReceipt);
        }
      }
      return received;
    },
    async stop() {
      await host.stop();
      await emulator.stop();
    },
  };
}

export async function uploadChapters(
  stack: Stack,
  projectId: string,
  files: Record<string, string | Buffer>,
) {
  for (const [name, content] of Object.entries(files)) {
    const body = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    await stack.chapters.getBlockBlobClient(`${projectId}/${name}`).upload(body, body.length);
  }
}

export async function api(stack: Stack, method: string, route: string, body?: unknown) {
  const response = await fetch(`${stack.api}${route}`, {
    method,
    headers: {
      "x-functions-key": "any",
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in tests
    body: text ? (JSON.parse(text) as Record<string, any>) : {},
  };
}

export async function startProject(stack: Stack, projectId: string, body?: unknown) {
  return api(stack, "POST", `/api/projects/${projectId}/synthesis`, body);
}

/** Per-test budget of the end-to-end tests: generous, as a loaded 2-core machine runs them several times slower. */
export const E2E_TIMEOUT_MS = 240_000;

/** Waits for the run to end and returns the final status body. */
export async function waitForRun(stack: Stack, projectId: string, timeoutMs = 180_000) {
  return waitFor(
    async () => {
      const status = await api(stack, "GET", `/api/projects/${projectId}/synthesis`);
      const runtime = status.body["runtimeStatus"];
      return runtime === "Completed" || runtime === "Failed" || runtime === "Terminated"
        ? status.body
        : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `project ${projectId} to finish` },
  );
}

// biome-ignore lint/suspicious/noExplicitAny: blob JSON is asserted field by field in tests
export async function readJsonBlob(container: ContainerClient, name: string): Promise<any> {
  return JSON.parse((await container.getBlobClient(name).downloadToBuffer()).toString("utf8"));
}

/** A chapter of `words` words with varied punctuation, quotes, `&`, `<` and non-ASCII. */
export function chapterText(seed: number, words = 60): string {
  const vocabulary = [
    "the",
    "ledger",
    "salt",
    "café",
    "“quoted”",
    "&",
    "<tag>",
    "naïve",
    "river",
    "lamp",
    "ship",
    "grey",
  ];
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(vocabulary[(seed * 7 + i * 3) % vocabulary.length] as string);
  return `Chapter ${seed}. ${out.join(" ")}.\n\nAnd then, ${seed} more things happened.`;
}

/** What Speech billed between two `/emulator/usage` readings: batch inputs, realtime requests, jobs created. */
export interface Billed {
  inputs: number;
  realtime: number;
  jobs: number;
}

export function billedBetween(before: Usage, after: Usage): Billed {
  return {
    inputs: after.inputs - before.inputs,
    realtime: after.requests.realtime - before.requests.realtime,
    jobs: after.jobs - before.jobs,
  };
}

/** Exact billing since `before`: every chapter paid once (batch inputs, realtime requests), nothing else. */
export async function expectBilled(emulator: TestEmulator, before: Usage, expected: Partial<Billed>) {
  const billed = billedBetween(before, await emulator.usage());
  const wanted: Billed = { inputs: 0, realtime: 0, jobs: billed.jobs, ...expected };
  if (JSON.stringify(billed) !== JSON.stringify(wanted)) {
    throw new Error(`Billed ${JSON.stringify(billed)}, expected ${JSON.stringify(wanted)}.`);
  }
  return billed;
}
