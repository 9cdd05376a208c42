import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeQueueMessage, type VideoMessage, videoMessageSchema } from "../../src/pipeline/messages.js";
import { azuriteConnectionString } from "../../tools/shared/azurite.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { waitForPreviousAzurite } from "../../tools/stack/lock.js";
import { choosePorts, type StackPorts } from "../../tools/stack/ports.js";
import { buildApp } from "../support/build.js";

/**
 * A user's machine dying mid-book, three times: `npm start` (tools/stack/main.ts) runs in its own process
 * group, which is SIGKILLed whole (stack, Functions host, Speech emulator, Azurite and their helpers) at
 * varied points of a 60-chapter run (read from storage: how many chapters have audio), then started again
 * on the same LOCAL_STATE_DIR. The run must end as if nothing happened: every chapter succeeded, one audio
 * blob and one video message each (counted, not deduplicated), the Speech bill = one input per chapter,
 * no realtime fallback, and nothing written after the run said it completed.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const PROJECT = "kill-ledger";
const CHAPTERS = 60;
/** Kill once this many chapters have audio (the 6, 24 and 42 of 60). */
const KILL_AFTER_AUDIO = [6, 24, 42];
const TIME_SCALE = "10";
const KEY = "local-dev-key";

interface StackProcess {
  child: ChildProcess;
  output(): string;
  ready(): boolean;
  exited: Promise<void>;
}

let stateDir: string;
let ports: StackPorts;
let running: StackProcess | undefined;
const storage = () => azuriteConnectionString(ports.blob, ports.queue, ports.table);

function startStackProcess(): StackProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AzureWebJobsStorage|SPEECH_|EMULATOR_|LOCAL_HOST_|CHAPTERS_|AUDIO_|VIDEO_|WORK_|MAX_)/.test(k))
      env[k] = v;
  }
  Object.assign(env, {
    LOCAL_STATE_DIR: stateDir,
    FUNCTIONS_PORT: String(ports.host),
    EMULATOR_PORT: String(ports.emulator),
    AZURITE_BLOB_PORT: String(ports.blob),
    AZURITE_QUEUE_PORT: String(ports.queue),
    AZURITE_TABLE_PORT: String(ports.table),
    EMULATOR_TIME_SCALE: TIME_SCALE,
    LOCAL_HOST_TIME_SCALE: TIME_SCALE,
    EMULATOR_AUDIO: "fast",
  });
  // Its own process group, so the kill reaches every process the stack started, as a crash would.
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "tools/stack/main.ts")], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
    output = (output + d.toString()).slice(-20_000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, output: () => output, ready: () => stdout.includes("READY"), exited };
}

async function startAndWaitReady(): Promise<StackProcess> {
  const stack = startStackProcess();
  let gone = false;
  void stack.exited.then(() => {
    gone = true;
  });
  await waitFor(
    () => {
      if (gone) throw new Error(`the stack exited during start-up:\n${stack.output()}`);
      return stack.ready();
    },
    { timeoutMs: 120_000, intervalMs: 100, description: "the READY line" },
  );
  return stack;
}

/** SIGKILL to the whole process group: nothing gets to flush or shut down. */
async function killGroup(stack: StackProcess): Promise<void> {
  const pid = stack.child.pid as number;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
  await stack.exited;
}

function chapterText(n: number): string {
  return `Chapter ${n}. The ledger of salt was counted twice that winter, once by the clerk and once by the wind. `.repeat(
    2,
  );
}

async function audioCount(audio: ContainerClient): Promise<number> {
  if (!(await audio.exists())) return 0;
  let n = 0;
  for await (const blob of audio.listBlobsFlat({ prefix: `${PROJECT}/` }))
    if (blob.name.endsWith(".mp3")) n++;
  return n;
}

async function usage(): Promise<{
  jobs: number;
  inputs: number;
  requests: { realtime: number; create: number };
}> {
  const res = await fetch(`http://127.0.0.1:${ports.emulator}/emulator/usage`, {
    headers: { "Ocp-Apim-Subscription-Key": KEY },
  });
  return (await res.json()) as never;
}

beforeAll(async () => {
  await buildApp();
  stateDir = await mkdtemp(join(tmpdir(), "tts-kill-"));
  ports = await choosePorts("free");
});

afterAll(async () => {
  if (process.env["KEEP_KILL_STATE"])
    console.log(`state in ${stateDir}; ports ${JSON.stringify(ports)}\n${running?.output()}`);
  if (running) await killGroup(running);
  // A stopping Azurite (it outlives the group kill to save its data) must let go of the folder first: wait
  // for its process to end, not only for its ports to close (it saves after closing them).
  await waitForPreviousAzurite(stateDir);
  if (!process.env["KEEP_KILL_STATE"]) await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
});

describe("the whole stack SIGKILLed three times during a book", () => {
  it("ends with every chapter stored once, announced once and billed once", async () => {
    running = await startAndWaitReady();
    const blobs = BlobServiceClient.fromConnectionString(storage());
    const chapters = blobs.getContainerClient("chapters");
    await chapters.createIfNotExists();
    for (let n = 1; n <= CHAPTERS; n++) {
      const text = chapterText(n);
      await chapters.uploadBlockBlob(
        `${PROJECT}/${String(n).padStart(3, "0")}.txt`,
        text,
        Buffer.byteLength(text),
      );
    }
    const start = await fetch(`http://localhost:${ports.host}/api/projects/${PROJECT}/synthesis`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ maxChaptersPerJob: 6, maxConcurrentJobs: 3 }),
    });
    expect(start.status, await start.text()).toBe(202);

    const audio = blobs.getContainerClient("audio");
    const kills: { killedAt: number; readyAt: number }[] = [];
    for (const threshold of KILL_AFTER_AUDIO) {
      await waitFor(async () => (await audioCount(audio)) >= threshold, {
        timeoutMs: Number(process.env["KILL_WAIT_MS"] ?? 240_000),
        intervalMs: 50,
        description: `${threshold} chapters with audio`,
      });
      await killGroup(running);
      const killedAt = Date.now();
      running = await startAndWaitReady();
      kills.push({ killedAt, readyAt: Date.now() });
    }

    let status: { runtimeStatus?: string } = {};
    await waitFor(
      async () => {
        const res = await fetch(
          `http://localhost:${ports.host}/runtime/webhooks/durabletask/instances/tts-${PROJECT}`,
        );
        status = res.status === 200 ? ((await res.json()) as typeof status) : {};
        if (status.runtimeStatus === "Failed" || status.runtimeStatus === "Terminated")
          throw new Error(`run ended ${status.runtimeStatus}: ${JSON.stringify(status)}`);
        return status.runtimeStatus === "Completed";
      },
      { timeoutMs: 240_000, intervalMs: 250, description: "the run to complete" },
    );

    const manifest = JSON.parse(
      (await audio.getBlobClient(`${PROJECT}/manifest.json`).downloadToBuffer()).toString("utf8"),
    ) as {
      chapters: { chapterId: string; status: string; reason: string | null }[];
      totals: { completedAt: string };
    };
    const notSucceeded = manifest.chapters.filter((c) => c.status !== "succeeded");
    expect(notSucceeded, JSON.stringify(notSucceeded)).toEqual([]);
    expect(manifest.chapters).toHaveLength(CHAPTERS);
    const completedAt = Date.parse(manifest.totals.completedAt);

    // One audio blob per chapter, none (re)written after the run said it completed.
    const audioBlobs: { name: string; lastModified: Date }[] = [];
    for await (const blob of audio.listBlobsFlat({ prefix: `${PROJECT}/` }))
      if (blob.name.endsWith(".mp3"))
        audioBlobs.push({ name: blob.name, lastModified: blob.properties.lastModified });
    expect(audioBlobs).toHaveLength(CHAPTERS);
    const late = audioBlobs.filter((b) => b.lastModified.getTime() > completedAt + 1_000);
    expect(late, "audio written after completion").toEqual([]);

    // Every message counted: a duplicate is a defect even with the same idempotencyKey.
    const queue = QueueServiceClient.fromConnectionString(storage()).getQueueClient("video-requests");
    const messages: (VideoMessage & { insertedOn: string })[] = [];
    for (;;) {
      const batch = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (batch.receivedMessageItems.length === 0) break;
      for (const item of batch.receivedMessageItems)
        messages.push({
          ...videoMessageSchema.parse(decodeQueueMessage(item.messageText)),
          insertedOn: item.insertedOn.toISOString(),
        });
    }
    const byChapter = new Map<string, (VideoMessage & { insertedOn: string })[]>();
    for (const m of messages) byChapter.set(m.chapterId, [...(byChapter.get(m.chapterId) ?? []), m]);
    expect(byChapter.size).toBe(CHAPTERS);
    /*
     * A Storage queue cannot take a message exactly once: a kill after the queue accepted a chapter's message
     * and before the pipeline recorded it (runPaths.announced, written right after the send) makes the
     * chapter's store run again after the restart and send it again (CONTRACT: a retried step may repeat a
     * message). Such a repeat is recognised, not deduplicated: identical messages, each one but the last
     * accepted by the time of a kill and the next one after that kill, a different kill for each repeat (a
     * chapter whose store is cut by two kills in a row sends three). Queue times have whole seconds.
     * Any other repeat (two copies at once, a chapter collected again) fails the test.
     */
    const killCut = (list: (VideoMessage & { insertedOn: string })[]): boolean => {
      const sorted = [...list].sort((a, b) => a.insertedOn.localeCompare(b.insertedOn));
      const bodies = sorted.map(({ insertedOn: _at, ...body }) => JSON.stringify(body));
      if (new Set(bodies).size !== 1) return false;
      const used = new Set<number>();
      for (let i = 1; i < sorted.length; i++) {
        const t1 = Date.parse((sorted[i - 1] as { insertedOn: string }).insertedOn);
        const t2 = Date.parse((sorted[i] as { insertedOn: string }).insertedOn);
        const cut = kills.findIndex(
          (k, n) => !used.has(n) && t1 <= k.killedAt && t2 >= Math.floor(k.killedAt / 1000) * 1000,
        );
        if (cut < 0) return false;
        used.add(cut);
      }
      return true;
    };
    const repeated = [...byChapter].filter(([, list]) => list.length > 1);
    const unexplained = repeated.filter(([, list]) => !killCut(list));
    const listTimes = (list: [string, { insertedOn: string }[]][]) =>
      list.map(([id, l]) => `${id}@${l.map((m) => m.insertedOn).join(",")}`).join(" ");
    expect(
      unexplained.map(([id]) => id),
      `chapters announced more than once: ${listTimes(unexplained)}; kills ${JSON.stringify(kills)}`,
    ).toEqual([]);
    if (repeated.length > 0)
      console.log(`messages repeated by a kill between send and record: ${listTimes(repeated)}`);

    const bill = await usage();
    expect(bill.inputs, JSON.stringify(bill)).toBe(CHAPTERS);
    expect(bill.requests.realtime).toBe(0);
  }, 900_000);
});
