/**
 * `npm run demo`: the whole pipeline on the embedded defaults in about a minute. Starts Azurite, the Speech
 * emulator and the local Functions host (default ports when free, else free ones) in a temporary state folder
 * with time scaling, uploads samples/book with the CLI's upload code, starts the project over HTTP, shows live
 * progress, prints where audio, subtitles, manifest and video messages went, stops everything.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { PipelineApiClient, type ProjectStatus } from "../../src/cli/api.js";
import { watchProject } from "../../src/cli/main.js";
import { uploadProject } from "../../src/cli/upload.js";
import { heapFlagsWarning } from "../stack/heapFlags.js";
import { REPO_ROOT, type RunningStack, startStack } from "../stack/stack.js";

const PROJECT_ID = "the-salt-ledger";
let activeStack: RunningStack | undefined;
const out = (line = "") => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`[demo] ${line}\n`);

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

interface ManifestChapter {
  chapterId: string;
  status: string;
  reason?: string | null;
  audioBlob?: string | null;
  durationMs?: number | null;
  sizeBytes?: number | null;
  mode?: string;
}
interface Manifest {
  voice?: string;
  outputFormat?: string;
  chapters?: ManifestChapter[];
  ignored?: string[];
  totals?: Record<string, unknown>;
}

async function report(stack: RunningStack, final: ProjectStatus): Promise<boolean> {
  const audioContainer = stack.appSettings["AUDIO_CONTAINER"] ?? "audio";
  const videoQueue = stack.appSettings["VIDEO_QUEUE"] ?? "video-requests";
  const blobs = BlobServiceClient.fromConnectionString(stack.storageConnectionString);
  const audio = blobs.getContainerClient(audioContainer);
  const manifestBlob = audio.getBlobClient(`${PROJECT_ID}/manifest.json`);
  const manifest = JSON.parse((await manifestBlob.downloadToBuffer()).toString("utf8")) as Manifest;
  const chapters = manifest.chapters ?? [];

  out();
  out(
    `Project ${PROJECT_ID}: ${final.runtimeStatus}, voice ${manifest.voice}, format ${manifest.outputFormat}`,
  );
  out(`Manifest:  ${manifestBlob.url}`);
  out(`Audio and subtitles (container "${audioContainer}"):`);
  for (const chapter of chapters) {
    const detail =
      chapter.status === "succeeded" || chapter.status === "unchanged"
        ? `${formatMs(chapter.durationMs ?? 0)}, ${Math.round((chapter.sizeBytes ?? 0) / 1024)} KB, ${chapter.mode}`
        : (chapter.reason ?? "");
    out(`  ${chapter.chapterId.padEnd(32)} ${chapter.status.padEnd(9)} ${detail}`);
    if (chapter.audioBlob) {
      const blobName = chapter.audioBlob.replace(new RegExp(`^${audioContainer}/`), "");
      out(`    ${audio.getBlobClient(blobName).url}`);
      const srt = blobName.replace(/\.[a-z0-9]+$/, ".srt");
      if (await audio.getBlobClient(srt).exists()) out(`    ${audio.getBlobClient(srt).url}`);
    }
  }
  if (manifest.ignored?.length) out(`Ignored input files: ${manifest.ignored.join(", ")}`);
  if (manifest.totals) out(`Totals: ${JSON.stringify(manifest.totals)}`);

  const queue = QueueServiceClient.fromConnectionString(stack.storageConnectionString).getQueueClient(
    videoQueue,
  );
  const props = await queue.getProperties();
  out(
    `Video messages: queue "${videoQueue}" at ${queue.url}, ${props.approximateMessagesCount ?? 0} message(s)`,
  );
  const peeked = await queue.peekMessages({ numberOfMessages: 1 });
  const first = peeked.peekedMessageItems[0];
  if (first) {
    const decoded = Buffer.from(first.messageText, "base64").toString("utf8");
    out("First message (base64-decoded):");
    out(JSON.stringify(JSON.parse(decoded), null, 2).replace(/^/gm, "  "));
  }

  const durable = (await new PipelineApiClient({ baseUrl: stack.apiUrl }).getDurableStatus(
    `tts-${PROJECT_ID}`,
  )) as {
    customStatus?: unknown;
  };
  out(`Durable customStatus: ${JSON.stringify(durable.customStatus ?? null)}`);

  const usage = await fetch(`${stack.emulatorUrl}/emulator/usage`, {
    headers: { "Ocp-Apim-Subscription-Key": stack.emulatorKey },
  });
  if (usage.ok) out(`Speech emulator usage (what a bill would show): ${JSON.stringify(await usage.json())}`);

  const succeeded = chapters.filter((c) => c.status === "succeeded" || c.status === "unchanged").length;
  return final.runtimeStatus === "Completed" && succeeded > 0 && (props.approximateMessagesCount ?? 0) > 0;
}

async function main(): Promise<number> {
  const started = Date.now();
  const timeScale = envNumber("DEMO_TIME_SCALE", 5);
  const timeoutMs = envNumber("DEMO_TIMEOUT_SECONDS", 300) * 1000;
  const stateDir = process.env["DEMO_STATE_DIR"] || (await mkdtemp(join(tmpdir(), "tts-demo-")));
  const heapWarning = heapFlagsWarning();
  if (heapWarning) note(heapWarning);
  note(
    `starting Azurite, the Speech emulator and the Functions host (time scale ${timeScale}, state ${stateDir})`,
  );
  let stack: RunningStack | undefined;
  try {
    stack = activeStack = await startStack({
      stateDir,
      portPolicy: "prefer",
      emulatorTimeScale: envNumber("EMULATOR_TIME_SCALE", timeScale),
      hostTimeScale: envNumber("LOCAL_HOST_TIME_SCALE", timeScale),
      log: note,
    });
    note(`stack ready: API ${stack.apiUrl}, emulator ${stack.emulatorUrl}`);

    const upload = await uploadProject({
      dir: join(REPO_ROOT, "samples", "book"),
      projectId: PROJECT_ID,
      blobService: BlobServiceClient.fromConnectionString(stack.storageConnectionString),
      containerName: stack.appSettings["CHAPTERS_CONTAINER"] ?? "chapters",
    });
    out(`Uploaded ${upload.uploaded.length} files (${upload.bytes} bytes) to chapters/${PROJECT_ID}/`);

    const api = new PipelineApiClient({ baseUrl: stack.apiUrl });
    const estimate = await api.estimate(PROJECT_ID);
    out(
      `Estimate: ${estimate.chapters} chapters, ${estimate.billableCharacters} billable characters, ` +
        `${estimate.plannedJobs} job(s) at the default job size (the demo asks for 3 chapters a job), about ${estimate.estimatedAudioMinutes.toFixed(1)} min of audio, ` +
        `${estimate.estimatedCost.amount.toFixed(4)} ${estimate.estimatedCost.currency}`,
    );
    // Small jobs so the progress bar moves job by job even on this short book.
    const run = await api.startSynthesis(PROJECT_ID, { maxChaptersPerJob: 3, maxConcurrentJobs: 2 });
    out(
      `Started ${run.id}. Durable status: ${stack.apiUrl}/runtime/webhooks/durabletask/instances/${run.id}`,
    );
    const final = await watchProject(
      api,
      PROJECT_ID,
      { stderr: process.stderr },
      { intervalMs: 500, timeoutMs },
    );
    const ok = await report(stack, final);
    out();
    out(`Demo ${ok ? "finished" : "FAILED"} in ${Math.round((Date.now() - started) / 1000)} s.`);
    return ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`demo failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    if (stack) await stack.stop();
    if (!process.env["DEMO_STATE_DIR"] && !process.env["DEMO_KEEP_STATE"]) {
      await rm(stateDir, { recursive: true, force: true }).catch(() => {});
    } else {
      note(`state kept in ${stateDir}`);
    }
  }
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    note(`${signal}: stopping the stack…`);
    void activeStack?.stop().finally(() => process.exit(130));
  });
}

// Exit explicitly: a stray timer in any part must not keep a finished demo alive.
process.exit(await main());
