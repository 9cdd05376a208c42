import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BlobServiceClient } from "@azure/storage-blob";
import { PipelineApiClient, type ProjectStatus, TERMINAL_STATUSES } from "../../src/cli/api.js";
import { DEFAULT_CHARS_PER_SECOND } from "../emulator/constants.js";
import { usageSchema } from "../emulator/model.js";
import { type RunningStack, startStack } from "../stack/stack.js";
import { SEED_BOOK_CHAPTERS, uploadSeedBook } from "./seedBook.js";

/** What a book benchmark runs; every field can be changed from the command line. */
export interface BookBenchConfig {
  chapters: number;
  mode: "batch" | "realtime";
  maxConcurrentJobs: number;
  maxChaptersPerJob?: number;
  /** Service time divided by this (emulator and durable timers alike). */
  timeScale: number;
  outputFormat: string;
  audioMode: "speech" | "synthetic" | "fast";
  wordBoundaries: boolean;
  timeoutSeconds: number;
}

/** `--chapters 100 --time-scale 200 --format … --mode realtime --max-concurrent-jobs 1 …` over the defaults. */
export function parseBookArgs(args: string[], defaults: BookBenchConfig): BookBenchConfig {
  const { values } = parseArgs({
    args,
    options: {
      chapters: { type: "string" },
      mode: { type: "string" },
      "max-concurrent-jobs": { type: "string" },
      "max-chapters-per-job": { type: "string" },
      "time-scale": { type: "string" },
      format: { type: "string" },
      audio: { type: "string" },
      "no-word-boundaries": { type: "boolean" },
      timeout: { type: "string" },
    },
    strict: true,
  });
  const num = (v: string | undefined, fallback: number | undefined) =>
    v === undefined ? fallback : Number(v);
  const config: BookBenchConfig = {
    ...defaults,
    chapters: num(values.chapters, defaults.chapters)!,
    mode: (values.mode as BookBenchConfig["mode"]) ?? defaults.mode,
    maxConcurrentJobs: num(values["max-concurrent-jobs"], defaults.maxConcurrentJobs)!,
    timeScale: num(values["time-scale"], defaults.timeScale)!,
    outputFormat: values.format ?? defaults.outputFormat,
    audioMode: (values.audio as BookBenchConfig["audioMode"]) ?? defaults.audioMode,
    wordBoundaries: values["no-word-boundaries"] ? false : defaults.wordBoundaries,
    timeoutSeconds: num(values.timeout, defaults.timeoutSeconds)!,
  };
  const perJob = num(values["max-chapters-per-job"], defaults.maxChaptersPerJob);
  if (perJob !== undefined) config.maxChaptersPerJob = perJob;
  for (const [name, value] of Object.entries(config)) {
    if (typeof value === "number" && !(value > 0)) throw new Error(`--${name} must be a positive number.`);
  }
  if (config.chapters > SEED_BOOK_CHAPTERS * 10) throw new Error("--chapters is unreasonably large.");
  return config;
}

interface JobTimeline {
  createdAt: number;
  /** End of the emulator's modelled timeline (start latency + characters ÷ speed, scaled). */
  endAt?: number;
  /** When it really finished: later than endAt when producing the audio took longer in real CPU time. */
  producedEndAt?: number;
}

/**
 * Watches the emulator's persisted job records (`{state}/emulator/jobs/*.json`) without HTTP, so observing
 * costs no Speech requests and no rate-limit budget. The pipeline deletes finished jobs, so records are
 * sampled while the run goes and each job keeps the latest timeline seen.
 */
function watchEmulatorJobs(stateDir: string): { stop(): void; timelines: Map<string, JobTimeline> } {
  const jobsDir = join(stateDir, "emulator", "jobs");
  const timelines = new Map<string, JobTimeline>();
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      for (const name of await readdir(jobsDir).catch(() => [] as string[])) {
        if (!name.endsWith(".json")) continue;
        const record = await readFile(join(jobsDir, name), "utf8")
          .then((t) => JSON.parse(t) as Record<string, unknown>)
          .catch(() => undefined);
        if (!record || typeof record["id"] !== "string" || typeof record["createdAt"] !== "number") continue;
        const done = record["status"] === "Succeeded" || record["status"] === "Failed";
        const finishAt = Number(record["finishAt"]) || 0;
        const producedEndAt = Math.max(finishAt, Number(record["producedAt"]) || 0);
        timelines.set(record["id"], {
          createdAt: record["createdAt"],
          ...(done && finishAt ? { endAt: finishAt, producedEndAt } : {}),
        });
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sample(), 250);
  return {
    timelines,
    stop: () => {
      clearInterval(timer);
      void sample();
    },
  };
}

/** Length of the union of [start, end] intervals (ms): time during which the service had work. */
function busyMs(intervals: [number, number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [start, end] of sorted) {
    if (!current || start > current[1]) {
      if (current) total += current[1] - current[0];
      current = [start, end];
    } else current[1] = Math.max(current[1], end);
  }
  if (current) total += current[1] - current[0];
  return total;
}

async function historyLength(api: PipelineApiClient, instanceId: string): Promise<number> {
  const status = (await api.getDurableStatus(instanceId, { showHistory: true })) as {
    historyEvents?: unknown[];
  };
  return Array.isArray(status?.historyEvents) ? status.historyEvents.length : 0;
}

/** Every orchestration instance the host knows (sub-orchestrations included), when it lists them. */
async function listInstanceIds(stack: RunningStack): Promise<string[]> {
  try {
    const res = await fetch(`${stack.apiUrl}/runtime/webhooks/durabletask/instances?top=1000`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return [];
    const body = (await res.json()) as unknown;
    const list = Array.isArray(body) ? body : ((body as { value?: unknown[] })?.value ?? []);
    return list
      .map((i) => (i as { instanceId?: unknown }).instanceId)
      .filter((id): id is string => typeof id === "string");
  } catch {
    return [];
  }
}

/** Runs the seed book through the full local stack and returns the CONTRACT §7 book fields. */
export async function runBookBench(
  config: BookBenchConfig,
  log = (l: string) => process.stderr.write(`${l}\n`),
) {
  const projectId = `seed-book-${config.chapters}`;
  const stateDir = await mkdtemp(join(tmpdir(), "tts-bench-"));
  const limits: string[] = [];
  let stack: RunningStack | undefined;
  let observer: ReturnType<typeof watchEmulatorJobs> | undefined;
  try {
    stack = await startStack({
      stateDir,
      portPolicy: "free",
      emulatorTimeScale: config.timeScale,
      hostTimeScale: config.timeScale,
      audioMode: config.audioMode,
      // The old system: one request at a time (the realtime path's own fan-out follows this setting).
      ...(config.mode === "realtime"
        ? { settings: { REALTIME_CONCURRENCY: String(config.maxConcurrentJobs) } }
        : {}),
      log: (l) => log(`[stack] ${l}`),
    });
    const seed = await uploadSeedBook(BlobServiceClient.fromConnectionString(stack.storageConnectionString), {
      containerName: stack.appSettings["CHAPTERS_CONTAINER"] ?? "chapters",
      projectId,
      count: config.chapters,
    });
    log(`seed book: ${seed.chapters} chapters, ${seed.characters} characters uploaded`);

    const api = new PipelineApiClient({ baseUrl: stack.apiUrl, timeoutMs: 120_000 });
    observer = watchEmulatorJobs(stateDir);
    const startedAt = Date.now();
    const run = await api.startSynthesis(projectId, {
      mode: config.mode,
      maxConcurrentJobs: config.maxConcurrentJobs,
      outputFormat: config.outputFormat,
      wordBoundaries: config.wordBoundaries,
      ...(config.maxChaptersPerJob ? { maxChaptersPerJob: config.maxChaptersPerJob } : {}),
    });
    let historyEventsMax = 0;
    let lastHistoryAt = 0;
    let lastLogAt = 0;
    let status: ProjectStatus | undefined;
    const deadline = startedAt + config.timeoutSeconds * 1000;
    for (;;) {
      status = await api.getStatus(projectId);
      const now = Date.now();
      if (now - lastHistoryAt > 15_000) {
        // Sampled during the run as well: an orchestrator that continues-as-new shortens its history.
        historyEventsMax = Math.max(historyEventsMax, await historyLength(api, run.id).catch(() => 0));
        lastHistoryAt = now;
      }
      if (now - lastLogAt > 10_000) {
        const c = status.chapters;
        log(
          `${Math.round((now - startedAt) / 1000)} s: ${status.phase ?? status.runtimeStatus}, ` +
            `${c.succeeded + c.failed + c.rejected + c.unchanged}/${c.total} chapters, jobs ${JSON.stringify(status.jobs)}`,
        );
        lastLogAt = now;
      }
      if (TERMINAL_STATUSES.has(status.runtimeStatus)) break;
      if (now > deadline)
        throw new Error(`run not finished after ${config.timeoutSeconds} s: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const wallSeconds = (Date.now() - startedAt) / 1000;
    observer.stop();
    if (status.runtimeStatus !== "Completed") throw new Error(`run ended ${status.runtimeStatus}`);

    const instanceIds = [...new Set([run.id, ...(await listInstanceIds(stack))])];
    for (const id of instanceIds) {
      historyEventsMax = Math.max(historyEventsMax, await historyLength(api, id).catch(() => 0));
    }
    const usageRes = await fetch(`${stack.emulatorUrl}/emulator/usage`, {
      headers: { "Ocp-Apim-Subscription-Key": stack.emulatorKey },
    });
    const usage = usageSchema.parse(await usageRes.json());
    const r = usage.requests;

    // serviceSeconds: the emulator's own processing time, in service (unscaled) seconds. Batch jobs: the union
    // of their created→finished intervals (the emulator's timeline), times the time scale. Realtime requests:
    // the emulator answers them without simulated latency, so their service time is its speed model
    // (characters ÷ EMULATOR_CHARS_PER_SECOND, one request at a time) and is added to the simulated wall time.
    const finished = [...observer.timelines.values()].filter(
      (t): t is Required<JobTimeline> => t.endAt !== undefined,
    );
    const intervals = finished.map((t) => [t.createdAt, t.endAt] as [number, number]);
    const producedIntervals = finished.map((t) => [t.createdAt, t.producedEndAt] as [number, number]);
    const charsPerSecond = Number(process.env["EMULATOR_CHARS_PER_SECOND"]) || DEFAULT_CHARS_PER_SECOND;
    const batchServiceSeconds = (busyMs(intervals) / 1000) * config.timeScale;
    // The emulator's real CPU time producing audio past the modelled finish, counted as service time too.
    const emulatorCpuLagSeconds = Math.max(
      0,
      (busyMs(producedIntervals) / 1000) * config.timeScale - batchServiceSeconds,
    );
    const realtimeServiceSeconds = usage.realtimeCharacters / charsPerSecond;
    if (intervals.length < usage.jobs) {
      limits.push(
        `batch service time from ${intervals.length} of ${usage.jobs} job timelines (others not sampled)`,
      );
    }
    if (usage.realtimeCharacters > 0) {
      limits.push(
        `realtime service time modelled: ${usage.realtimeCharacters} characters at ${charsPerSecond}/s, added to the simulated wall (the emulator's realtime endpoint has no simulated latency)`,
      );
    }
    const serviceSeconds = batchServiceSeconds + realtimeServiceSeconds;
    const simulatedWallSeconds = wallSeconds * config.timeScale + realtimeServiceSeconds;
    limits.push(
      "serviceSeconds is the emulator's modelled timeline (start latency + characters ÷ speed), what Azure would take by that model",
      "emulatorCpuLagSeconds: the emulator's real CPU time producing audio past that timeline, times the scale (an artefact of scaling)",
      "overheadRatio treats all pipeline time as scaled (upper bound); overheadRatioUnscaled treats it as real (lower bound)",
      `time scale ${config.timeScale}: emulator and durable timers run ${config.timeScale}× faster; ` +
        "CPU work (audio, zips, storage, replay) does not, so overhead is overstated at high scales",
      `emulator audio mode "${config.audioMode}", format ${config.outputFormat}`,
      "peakRssMB is this process (host, app and emulator); Azurite runs in its own process",
      "one 2-core machine, Azurite on local disk",
    );
    return {
      chapters: status.chapters.total,
      characters: seed.characters,
      mode: config.mode,
      jobs: usage.jobs,
      speechRequests: r.create + r.get + r.list + r.delete + r.realtime,
      submitRequests: config.mode === "realtime" ? r.realtime : r.create,
      pollRequests: r.get,
      throttledRequests: r.throttled,
      realtimeRequests: r.realtime,
      billableCharacters: usage.billableCharacters + usage.realtimeCharacters,
      succeeded: status.chapters.succeeded,
      failed: status.chapters.failed,
      serviceSeconds: Math.round(serviceSeconds * 10) / 10,
      batchServiceSeconds: Math.round(batchServiceSeconds * 10) / 10,
      realtimeServiceSeconds: Math.round(realtimeServiceSeconds * 10) / 10,
      emulatorCpuLagSeconds: Math.round(emulatorCpuLagSeconds),
      overheadRatioExcludingEmulatorCpu:
        Math.round(
          ((simulatedWallSeconds - serviceSeconds - emulatorCpuLagSeconds) / serviceSeconds) * 1000,
        ) / 1000,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      simulatedWallSeconds: Math.round(simulatedWallSeconds),
      simulatedWallHours: Math.round((simulatedWallSeconds / 3600) * 100) / 100,
      overheadRatio: Math.round(((simulatedWallSeconds - serviceSeconds) / serviceSeconds) * 1000) / 1000,
      // Lower bound: counts the pipeline's real seconds beyond the scaled service time as if unscaled
      // (CPU work does not speed up with the time scale; overheadRatio above is the upper bound).
      overheadRatioUnscaled:
        Math.round(((wallSeconds - batchServiceSeconds / config.timeScale) / serviceSeconds) * 1000) / 1000,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      historyEventsMax,
      instancesChecked: instanceIds.length,
      timeScale: config.timeScale,
      maxConcurrentJobs: config.maxConcurrentJobs,
      outputFormat: config.outputFormat,
      limits,
    };
  } finally {
    observer?.stop();
    if (stack) await stack.stop();
    await rm(stateDir, { recursive: true, force: true }).catch(() => {});
  }
}
