import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BlobServiceClient } from "@azure/storage-blob";
import { z } from "zod";
import { PipelineApiClient, type ProjectStatus, TERMINAL_STATUSES } from "../../src/cli/api.js";
import { settingsSchema } from "../../src/config/settings.js";
import { throughputRecordSchema } from "../../src/pipeline/runState.js";
import { resolveConfig } from "../emulator/config.js";
import { MIN_RUNNING_MS } from "../emulator/constants.js";
import { usageSchema } from "../emulator/model.js";
import { billableCharacters } from "../emulator/text.js";
import { waitFor } from "../shared/waitFor.js";
import { heapFlagsInForce, heapFlagsWarning } from "../stack/heapFlags.js";
import { type RunningStack, startStack } from "../stack/stack.js";
import { floorSeconds, modelledJobSeconds, type ServiceModel } from "./floor.js";
import { watchStackResources } from "./processes.js";
import { SEED_BOOK_CHAPTERS, uploadSeedBook } from "./seedBook.js";
import { renderTimelineSvg, type TimelineJob } from "./timeline.js";
import { drainVideoQueue, type ReceivedMessage } from "./videoQueue.js";

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
  /** Folder for `<name>.json` and `<name>.timeline.svg` (default `bench-results`). */
  outDir: string;
  /** File name stem of the outputs: the scenario (plus the settings in a sweep). */
  name: string;
  /**
   * `--warm [chapters]`: before the measured run, a calibration run of the seed book's first `warmChapters`
   * chapters (another project) on the same stack, so the measured run starts with the throughput prior the
   * pipeline itself recorded (`_throughput.json`), as every run after a deployment's first does.
   */
  warmChapters?: number;
}

/**
 * Waves of a default calibration. A deployment that narrated before ran many waves, and `_throughput.json`
 * holds the intersection of its lanes' brackets (src/pipeline/throughput.ts). One wave cannot show that: its
 * lanes all start from the first job's doubling bracket (a factor of two, the service reports no progress)
 * and their first jobs end about together, so they record nothing narrower. The second wave's jobs are
 * polled from the first wave's rate, bracket their own ends, and the lanes' brackets intersect.
 */
const CALIBRATION_WAVES = 2;

/** The app's MAX_CHAPTERS_PER_JOB default: the job shape a default calibration copies. */
const DEFAULT_MAX_CHAPTERS_PER_JOB = settingsSchema.shape.MAX_CHAPTERS_PER_JOB.parse(undefined);

/** A positive number, or a comma-separated list of them (the sweep flags). */
function numbers(flag: string, value: string): number[] {
  const list = value.split(",").map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((n) => !(n > 0)))
    throw new Error(`--${flag} must be a positive number or a list like 1,3,6 (got "${value}").`);
  return list;
}

/**
 * `--chapters 100 --time-scale 200 --format … --mode realtime --max-concurrent-jobs 1,3,6 …` over the
 * defaults. `--max-concurrent-jobs` and `--max-chapters-per-job` take lists: one configuration per
 * combination (a sweep), named `<scenario>.c<jobs>.n<chapters per job>`.
 */
export function parseBookArgs(
  args: string[],
  defaults: Omit<BookBenchConfig, "outDir" | "name">,
  scenario: string,
): BookBenchConfig[] {
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
      out: { type: "string" },
      warm: { type: "boolean" },
      "warm-chapters": { type: "string" },
    },
    strict: true,
  });
  const num = (v: string | undefined, fallback: number | undefined) =>
    v === undefined ? fallback : Number(v);
  const base: BookBenchConfig = {
    ...defaults,
    chapters: num(values.chapters, defaults.chapters)!,
    mode: (values.mode as BookBenchConfig["mode"]) ?? defaults.mode,
    timeScale: num(values["time-scale"], defaults.timeScale)!,
    outputFormat: values.format ?? defaults.outputFormat,
    audioMode: (values.audio as BookBenchConfig["audioMode"]) ?? defaults.audioMode,
    wordBoundaries: values["no-word-boundaries"] ? false : defaults.wordBoundaries,
    timeoutSeconds: num(values.timeout, defaults.timeoutSeconds)!,
    outDir: resolve(values.out ?? "bench-results"),
    name: scenario,
  };
  for (const [name, value] of Object.entries(base)) {
    if (typeof value === "number" && !(value > 0)) throw new Error(`--${name} must be a positive number.`);
  }
  if (base.chapters > SEED_BOOK_CHAPTERS * 10) throw new Error("--chapters is unreasonably large.");
  const warmChapters = values["warm-chapters"] === undefined ? undefined : Number(values["warm-chapters"]);
  if (warmChapters !== undefined && !(Number.isInteger(warmChapters) && warmChapters > 0))
    throw new Error(`--warm-chapters must be a positive whole number (got "${values["warm-chapters"]}").`);
  const warm = values.warm === true || warmChapters !== undefined;
  if (warm && base.mode !== "batch") throw new Error("--warm measures batch polling; it needs --mode batch.");
  const concurrencies = values["max-concurrent-jobs"]
    ? numbers("max-concurrent-jobs", values["max-concurrent-jobs"])
    : [defaults.maxConcurrentJobs];
  const perJobs: (number | undefined)[] = values["max-chapters-per-job"]
    ? numbers("max-chapters-per-job", values["max-chapters-per-job"])
    : [defaults.maxChaptersPerJob];
  const sweep = concurrencies.length > 1 || perJobs.length > 1;
  return concurrencies.flatMap((maxConcurrentJobs) =>
    perJobs.map((maxChaptersPerJob) => ({
      ...base,
      maxConcurrentJobs,
      ...(maxChaptersPerJob !== undefined ? { maxChaptersPerJob } : {}),
      // Default calibration: two full waves of the same job shape (the rate model is per character of a
      // job, so a calibration of smaller jobs would teach a different rate).
      ...(warm
        ? {
            warmChapters:
              warmChapters ??
              Math.min(
                base.chapters,
                CALIBRATION_WAVES * maxConcurrentJobs * (maxChaptersPerJob ?? DEFAULT_MAX_CHAPTERS_PER_JOB),
              ),
          }
        : {}),
      name:
        (sweep ? `${scenario}.c${maxConcurrentJobs}.n${maxChaptersPerJob ?? "default"}` : scenario) +
        (warm ? ".warm" : ""),
    })),
  );
}

const downloadLogSchema = z.object({
  succeededSeenAt: z.record(z.string(), z.number()),
  served: z.array(
    z.looseObject({
      at: z.number(),
      method: z.string(),
      start: z.number().optional(),
      size: z.number().optional(),
    }),
  ),
});

/**
 * Where the first job's first-message lag goes, from the emulator's download log (tools/emulator/downloadLog.ts):
 * when a read first answered Succeeded, when the collect first read results.zip, when it first read an entry.
 */
async function firstMessageLagParts(
  stack: { emulatorUrl: string; emulatorKey: string },
  job: Required<JobTimeline>,
  firstMessageAt: number,
  scale: number,
): Promise<Record<string, number> | undefined> {
  const response = await fetch(`${stack.emulatorUrl}/emulator/downloads?id=${encodeURIComponent(job.id)}`, {
    headers: { "Ocp-Apim-Subscription-Key": stack.emulatorKey },
  });
  const log = downloadLogSchema.parse(await response.json());
  const seenAt = log.succeededSeenAt[job.id];
  const reads = log.served.filter((s) => s.method === "GET" || s.method === "HEAD");
  const firstRead = reads[0];
  // Entries start at byte 0; the end record, directory and summary.json sit at the end of the zip.
  const firstEntryRead = reads.find(
    (s) => s.method === "GET" && s.start !== undefined && s.size !== undefined && s.start < s.size / 2,
  );
  if (seenAt === undefined || !firstRead || !firstEntryRead) return undefined;
  const seconds = (from: number, to: number) => round1(((to - from) / 1000) * scale);
  return {
    poll: seconds(job.producedEndAt, seenAt),
    dispatch: seconds(seenAt, firstRead.at),
    open: seconds(firstRead.at, firstEntryRead.at),
    store: seconds(firstEntryRead.at, firstMessageAt),
  };
}

interface JobTimeline {
  id: string;
  createdAt: number;
  /** Billable characters of each input, in order: what the emulator's timing model plans from. */
  billablePerInput: number[];
  /** End of the emulator's modelled timeline (start latency + characters ÷ speed, scaled). */
  endAt?: number;
  /** When it really finished: later than endAt when producing the audio took longer in real CPU time. */
  producedEndAt?: number;
}

const jobRecordSchema = z.looseObject({
  id: z.string(),
  createdAt: z.number(),
  finishAt: z.number(),
  producedAt: z.number().optional(),
  status: z.string(),
  request: z.looseObject({ inputKind: z.enum(["PlainText", "SSML"]), inputs: z.array(z.string()) }),
});

/**
 * Watches the emulator's persisted job records (`{state}/emulator/jobs/*.json`) without HTTP, so observing
 * costs no Speech requests and no rate-limit budget. The pipeline deletes finished jobs, so records are
 * sampled while the run goes and each job keeps the latest timeline seen. A record (with all its input
 * texts) is parsed again only when its file changed.
 */
function watchEmulatorJobs(stateDir: string): { stop(): Promise<void>; timelines: Map<string, JobTimeline> } {
  const jobsDir = join(stateDir, "emulator", "jobs");
  const timelines = new Map<string, JobTimeline>();
  const seen = new Map<string, number>();
  let running: Promise<void> | undefined;
  const sampleOnce = async () => {
    for (const name of await readdir(jobsDir).catch(() => [] as string[])) {
      if (!name.endsWith(".json")) continue;
      const file = join(jobsDir, name);
      const mtime = await stat(file).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (mtime === undefined || seen.get(name) === mtime) continue;
      const parsed = jobRecordSchema.safeParse(
        await readFile(file, "utf8").then(
          (t) => JSON.parse(t) as unknown,
          () => undefined,
        ),
      );
      if (!parsed.success) continue;
      seen.set(name, mtime);
      const record = parsed.data;
      const known = timelines.get(record.id);
      const done = record.status === "Succeeded" || record.status === "Failed";
      timelines.set(record.id, {
        id: record.id,
        createdAt: record.createdAt,
        billablePerInput:
          known && known.createdAt === record.createdAt
            ? known.billablePerInput
            : record.request.inputs.map((input) => billableCharacters(input, record.request.inputKind)),
        ...(done
          ? { endAt: record.finishAt, producedEndAt: Math.max(record.finishAt, record.producedAt ?? 0) }
          : {}),
      });
    }
  };
  const sample = () => {
    running ??= sampleOnce().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void sample(), 250);
  return {
    timelines,
    stop: async () => {
      clearInterval(timer);
      await running;
      await sample();
    },
  };
}

/** Nearest-rank percentile (p in 0–100) of unsorted values; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
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

const ENVIRONMENT_AT_START = { ...process.env };

const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** The emulator's timing model as the stack's emulator resolves it (same EMULATOR_* environment). */
function serviceModel(): ServiceModel {
  const config = resolveConfig({});
  return {
    charsPerSecond: config.charsPerSecond,
    inputParallelism: config.inputParallelism,
    startLatencyMs: config.startLatencyMs,
    minRunningMs: MIN_RUNNING_MS,
  };
}

/** chapterId → synthesis id of the job that produced it, from the final manifest. */
async function chapterJobs(stack: RunningStack, projectId: string): Promise<Map<string, string>> {
  const blobs = BlobServiceClient.fromConnectionString(stack.storageConnectionString);
  const container = blobs.getContainerClient(stack.appSettings["AUDIO_CONTAINER"] ?? "audio");
  const body = await container.getBlobClient(`${projectId}/manifest.json`).downloadToBuffer();
  const manifest = z
    .object({ chapters: z.array(z.object({ chapterId: z.string(), batchJobId: z.string().nullable() })) })
    .parse(JSON.parse(body.toString("utf8")));
  return new Map(
    manifest.chapters.flatMap((c) => (c.batchJobId ? [[c.chapterId, c.batchJobId] as [string, string]] : [])),
  );
}

/** The synthesis options of a bench run (the calibration run uses the same ones). */
function runOptions(config: BookBenchConfig) {
  return {
    mode: config.mode,
    maxConcurrentJobs: config.maxConcurrentJobs,
    outputFormat: config.outputFormat,
    wordBoundaries: config.wordBoundaries,
    ...(config.maxChaptersPerJob ? { maxChaptersPerJob: config.maxChaptersPerJob } : {}),
  };
}

/** Polls the project's status every second until the run ends; samples its history length on the way. */
async function waitForRun(
  api: PipelineApiClient,
  projectId: string,
  instanceId: string,
  startedAt: number,
  timeoutSeconds: number,
  resources: ReturnType<typeof watchStackResources>,
  log: (line: string) => void,
): Promise<{ status: ProjectStatus; historyEventsMax: number }> {
  let historyEventsMax = 0;
  let lastHistoryAt = 0;
  let lastLogAt = 0;
  const deadline = startedAt + timeoutSeconds * 1000;
  for (;;) {
    const status = await api.getStatus(projectId);
    const now = Date.now();
    if (now - lastHistoryAt > 15_000) {
      // Sampled during the run as well: an orchestrator that continues-as-new shortens its history.
      historyEventsMax = Math.max(historyEventsMax, await historyLength(api, instanceId).catch(() => 0));
      lastHistoryAt = now;
    }
    if (now - lastLogAt > Number(process.env["BENCH_LOG_SECONDS"] || 10) * 1000) {
      const c = status.chapters;
      log(
        `${projectId} ${Math.round((now - startedAt) / 1000)} s: ${status.phase ?? status.runtimeStatus}, ` +
          `${c.succeeded + c.failed + c.rejected + c.unchanged}/${c.total} chapters, jobs ${JSON.stringify(status.jobs)}; ${resources.current()}`,
      );
      lastLogAt = now;
    }
    if (TERMINAL_STATUSES.has(status.runtimeStatus)) return { status, historyEventsMax };
    if (now > deadline)
      throw new Error(`run not finished after ${timeoutSeconds} s: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

type Usage = z.infer<typeof usageSchema>;

const requestCount = (u: Usage) =>
  u.requests.create + u.requests.get + u.requests.list + u.requests.delete + u.requests.realtime;

/** `after` − `before`: what the emulator counted since `before` was read. */
function minusUsage(after: Usage, before: Usage | undefined): Usage {
  if (!before) return after;
  const requests = Object.fromEntries(
    Object.entries(after.requests).map(([k, v]) => [k, v - before.requests[k as keyof Usage["requests"]]]),
  ) as Usage["requests"];
  return {
    requests,
    jobs: after.jobs - before.jobs,
    inputs: after.inputs - before.inputs,
    billableCharacters: after.billableCharacters - before.billableCharacters,
    realtimeCharacters: after.realtimeCharacters - before.realtimeCharacters,
  };
}

async function readUsage(stack: RunningStack): Promise<Usage> {
  const response = await fetch(`${stack.emulatorUrl}/emulator/usage`, {
    headers: { "Ocp-Apim-Subscription-Key": stack.emulatorKey },
  });
  return usageSchema.parse(await response.json());
}

interface FirstJobLag {
  /** Modelled seconds (real × scale) from the first job's service completion to its first video message. */
  seconds: number;
  realSeconds: number;
  parts: Record<string, number> | null;
}

/** The first finished job's lag to its first video message, and where it went (firstMessageLagParts). */
async function firstJobLag(
  stack: RunningStack,
  finished: Required<JobTimeline>[],
  messagesByJob: ReadonlyMap<string, number[]>,
  scale: number,
): Promise<FirstJobLag | undefined> {
  const firstJob = finished[0];
  const firstMessages = firstJob ? (messagesByJob.get(firstJob.id) ?? []) : [];
  if (!firstJob || firstMessages.length === 0) return undefined;
  const firstAt = Math.min(...firstMessages);
  const realSeconds = (firstAt - firstJob.producedEndAt) / 1000;
  return {
    seconds: round1(realSeconds * scale),
    realSeconds: round3(realSeconds),
    parts: (await firstMessageLagParts(stack, firstJob, firstAt, scale)) ?? null,
  };
}

/** Video message arrival times by the synthesis job that produced each chapter. */
async function messagesByJobOf(
  stack: RunningStack,
  projectId: string,
  messages: readonly ReceivedMessage[],
): Promise<Map<string, number[]>> {
  const jobOfChapter = await chapterJobs(stack, projectId);
  const byJob = new Map<string, number[]>();
  for (const m of messages) {
    if (m.projectId !== projectId) continue;
    const job = jobOfChapter.get(m.chapterId);
    if (job) byJob.set(job, [...(byJob.get(job) ?? []), m.receivedAt]);
  }
  return byJob;
}

/**
 * `--warm`: the seed book's first `warmChapters` chapters as another project, run to the end on the same
 * stack before the measured run. Its collects record the rate the pipeline measured (`_throughput.json`,
 * src/pipeline/throughput.ts), which planning reads as the measured run's prior; the bench never writes a
 * rate itself. Its own first job is the cold measurement (no prior on a fresh stack).
 */
async function calibrate(
  stack: RunningStack,
  api: PipelineApiClient,
  config: BookBenchConfig & { warmChapters: number },
  log: (line: string) => void,
  observer: ReturnType<typeof watchEmulatorJobs>,
  video: ReturnType<typeof drainVideoQueue>,
  resources: ReturnType<typeof watchStackResources>,
) {
  const projectId = `calibration-${config.warmChapters}`;
  const blobs = BlobServiceClient.fromConnectionString(stack.storageConnectionString);
  await uploadSeedBook(blobs, {
    containerName: stack.appSettings["CHAPTERS_CONTAINER"] ?? "chapters",
    projectId,
    count: config.warmChapters,
  });
  log(`calibration: ${config.warmChapters} chapters as ${projectId}`);
  const startedAt = Date.now();
  const run = await api.startSynthesis(projectId, runOptions(config));
  const { status } = await waitForRun(
    api,
    projectId,
    run.id,
    startedAt,
    config.timeoutSeconds,
    resources,
    log,
  );
  if (status.runtimeStatus !== "Completed") throw new Error(`calibration run ended ${status.runtimeStatus}`);
  const wallSeconds = round1((Date.now() - startedAt) / 1000);
  // Its last video messages may still be on the queue: wait until every chapter's has come.
  await waitFor(
    () => video.received.filter((m) => m.projectId === projectId).length >= status.chapters.succeeded,
    { timeoutMs: 60_000, intervalMs: 100 },
  ).catch(() => undefined);
  const record = await blobs
    .getContainerClient(stack.appSettings["WORK_CONTAINER"] ?? "tts-work")
    .getBlobClient("_throughput.json")
    .downloadToBuffer()
    .then((b) => throughputRecordSchema.parse(JSON.parse(b.toString("utf8"))))
    .catch((error: unknown) => {
      throw new Error(`the calibration run recorded no throughput (_throughput.json): ${String(error)}`);
    });
  if (record.projectId !== projectId)
    throw new Error(`_throughput.json is not the calibration's: ${record.projectId}`);
  const finished = [...observer.timelines.values()]
    .filter((j): j is Required<JobTimeline> => j.createdAt >= startedAt && j.endAt !== undefined)
    .sort((a, b) => a.createdAt - b.createdAt);
  const firstLag = await firstJobLag(
    stack,
    finished,
    await messagesByJobOf(stack, projectId, video.received),
    config.timeScale,
  );
  log(
    `calibration done in ${wallSeconds} s: prior ${JSON.stringify(record.rate)}, cold first-message lag ${firstLag?.seconds} s`,
  );
  return {
    chapters: config.warmChapters,
    wallSeconds,
    priorRate: record.rate,
    usage: await readUsage(stack),
    firstLag,
  };
}

/** Runs the seed book through the full local stack and returns the CONTRACT §7 and §8 book fields. */
export async function runBookBench(
  config: BookBenchConfig,
  log = (l: string) => process.stderr.write(`${l}\n`),
) {
  const projectId = `seed-book-${config.chapters}`;
  const stateDir = await mkdtemp(join(tmpdir(), "tts-bench-"));
  const limits: string[] = [];
  let stack: RunningStack | undefined;
  let observer: ReturnType<typeof watchEmulatorJobs> | undefined;
  let video: ReturnType<typeof drainVideoQueue> | undefined;
  const resources = watchStackResources();
  // Each stack in this process (a sweep, book-compare) starts from the environment the bench started with: the
  // local host writes a stack's settings into process.env (keeping values already there) and the app caches
  // settings per process.env object (src/config/settings.ts), so a second stack would reach the first one's
  // stopped Azurite and emulator.
  process.env = { ...ENVIRONMENT_AT_START };
  const heapWarning = heapFlagsWarning();
  if (heapWarning) process.stderr.write(`[bench] ${heapWarning}\n`);
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
    video = drainVideoQueue(
      stack.storageConnectionString,
      stack.appSettings["VIDEO_QUEUE"] ?? "video-requests",
    );
    observer = watchEmulatorJobs(stateDir);
    const calibration = config.warmChapters
      ? await calibrate(
          stack,
          api,
          { ...config, warmChapters: config.warmChapters },
          log,
          observer,
          video,
          resources,
        )
      : undefined;
    resources.markStart();
    const startedAt = Date.now();
    const run = await api.startSynthesis(projectId, runOptions(config));
    const watched = await waitForRun(
      api,
      projectId,
      run.id,
      startedAt,
      config.timeoutSeconds,
      resources,
      log,
    );
    const { status } = watched;
    let { historyEventsMax } = watched;
    const wallSeconds = (Date.now() - startedAt) / 1000;
    await observer.stop();
    const messages: ReceivedMessage[] = (await video.stop()).filter((m) => m.projectId === projectId);
    // Read before the stack stops: Azurite's peak and CPU die with it.
    const stackResources = resources.stop();
    if (status.runtimeStatus !== "Completed") throw new Error(`run ended ${status.runtimeStatus}`);

    const instanceIds = [...new Set([run.id, ...(await listInstanceIds(stack))])];
    for (const id of instanceIds) {
      historyEventsMax = Math.max(historyEventsMax, await historyLength(api, id).catch(() => 0));
    }
    // A calibration run's jobs and requests are not the measured run's.
    const usage = minusUsage(await readUsage(stack), calibration?.usage);
    const r = usage.requests;
    const scale = config.timeScale;
    /** Real clock ms → modelled seconds since the run started. */
    const modelled = (at: number) => ((at - startedAt) / 1000) * scale;
    const model = serviceModel();
    // The stack's heap flags (tools/stack/heapFlags.ts), from the command line or NODE_OPTIONS; say which.
    const v8Flags = heapFlagsInForce();

    // serviceSeconds: the emulator's own processing time, in service (unscaled) seconds. Batch jobs: the union
    // of their created→finished intervals (the emulator's timeline), times the time scale. Realtime requests:
    // the emulator answers them without simulated latency, so their service time is its speed model
    // (characters ÷ EMULATOR_CHARS_PER_SECOND, one request at a time) and is added to the simulated wall time.
    const jobs = [...observer.timelines.values()]
      .filter((j) => j.createdAt >= startedAt)
      .sort((a, b) => a.createdAt - b.createdAt);
    const finished = jobs.filter((t): t is Required<JobTimeline> => t.endAt !== undefined);
    const intervals = finished.map((t) => [t.createdAt, t.endAt] as [number, number]);
    const producedIntervals = finished.map((t) => [t.createdAt, t.producedEndAt] as [number, number]);
    const batchServiceSeconds = (busyMs(intervals) / 1000) * scale;
    // The emulator's real CPU time producing audio past the modelled finish, counted as service time too.
    const emulatorCpuLagSeconds = Math.max(
      0,
      (busyMs(producedIntervals) / 1000) * scale - batchServiceSeconds,
    );
    const realtimeServiceSeconds = usage.realtimeCharacters / model.charsPerSecond;
    if (intervals.length < usage.jobs) {
      limits.push(
        `batch service time from ${intervals.length} of ${usage.jobs} job timelines (others not sampled)`,
      );
    }
    if (usage.realtimeCharacters > 0) {
      limits.push(
        `realtime service time modelled: ${usage.realtimeCharacters} characters at ${model.charsPerSecond}/s, added to the simulated wall (the emulator's realtime endpoint has no simulated latency)`,
      );
    }
    const serviceSeconds = batchServiceSeconds + realtimeServiceSeconds;
    const simulatedWallSeconds = wallSeconds * scale + realtimeServiceSeconds;

    // The floor: the same jobs, in submission order, on maxConcurrentJobs slots back to back (floor.ts).
    const batch = config.mode === "batch" && jobs.length > 0;
    const floor = batch
      ? floorSeconds(
          jobs.map((j) => j.billablePerInput),
          config.maxConcurrentJobs,
          model,
        )
      : undefined;
    const modelMismatches = finished.filter(
      (j) =>
        Math.abs(modelledJobSeconds(j.billablePerInput, model) - ((j.endAt - j.createdAt) / 1000) * scale) >
        1,
    );
    if (modelMismatches.length > 0) {
      limits.push(
        `${modelMismatches.length} jobs ran longer at the emulator than its per-job model (EMULATOR_JOB_CONCURRENCY queueing?): the floor assumes no service-side queue`,
      );
    }
    const serviceSpanSeconds =
      finished.length > 0
        ? ((Math.max(...finished.map((j) => j.endAt)) - (jobs[0]?.createdAt ?? 0)) / 1000) * scale
        : 0;

    // Video messages: chapter latency from the run's start; the first job's completion → its first message.
    const messagesByJob =
      config.mode === "batch"
        ? await messagesByJobOf(stack, projectId, messages)
        : new Map<string, number[]>();
    const latencies = messages.map((m) => modelled(m.receivedAt));
    const firstLag = await firstJobLag(stack, finished, messagesByJob, scale);
    const collected = status.chapters.succeeded;
    const requestTotal = requestCount(usage);

    limits.push(
      "serviceSeconds is the emulator's modelled timeline (start latency + characters ÷ speed), what Azure would take by that model, not a measurement of Azure",
      "floorSeconds: the same jobs (per-input characters from the emulator's job records), in submission order, list-scheduled on maxConcurrentJobs slots with zero gaps by the emulator's model; floorRatio = serviceSeconds ÷ floorSeconds; serviceSeconds counts only time when at least one job was at the service, serviceSpanSeconds the whole first-create → last-finish span",
      "emulatorCpuLagSeconds: the emulator's real CPU time producing audio past that timeline, times the scale (an artefact of scaling)",
      "overheadRatio treats all pipeline time as scaled (upper bound); overheadRatioUnscaled treats it as real (lower bound)",
      `time scale ${scale}: emulator and durable timers run ${scale}× faster; ` +
        "CPU work (audio, zips, storage, replay) does not, so overhead is overstated at high scales",
      `video message times are when the bench (as the video step) received them, polling the queue every 50 ms real (${round1(0.05 * scale)} s modelled); modelled = real × scale, so the CPU time of collecting is multiplied by the scale too (firstMessageLagRealSeconds is the unscaled figure)`,
      `emulator audio mode "${config.audioMode}", format ${config.outputFormat}`,
      `peakRssMB: the stack process (host, app, emulator and this bench, one Node process; V8 flags: ${v8Flags.join(" ") || "none"}); Azurite and its guard are separate processes`,
      stackResources.available
        ? "peakRssAllProcessesMB: sum of each process's own peak (VmHWM: this one, Azurite, its guard, tsx's esbuild), an upper bound of the tree's peak; peakRssAllProcessesSampledMB: the highest sum sampled every 0.5 s"
        : "peakRssAllProcessesMB: this process only (no /proc to find Azurite)",
      "firstMessageLagParts (modelled s, real × scale, first job): poll = the job's finish → the first GET or list that answered Succeeded; dispatch = that → the collect's first read of results.zip (orchestration, activity start, run-state reads); open = → its first read of an entry (end of the zip, summary.json); store = → the first video message received (the chapter's bytes, Put Blob, word boundaries, subtitles, message, the bench's 50 ms queue poll)",
      "cpuSecondsPer100Chapters: user + system CPU of all stack processes during the run, per 100 chapters collected",
      "one 2-core machine shared with other work, Azurite on local disk",
    );
    if (calibration) {
      limits.push(
        `warm: a calibration run (${calibration.chapters} chapters of the seed book as another project, same settings, same stack) ran first; the measured run's first jobs were polled from the rate it recorded (_throughput.json, priorRate). Requests, jobs, billing and the timeline are the measured run's alone; peak RSS and CPU include the calibration's`,
        "coldFirstMessageLagSeconds: the calibration run's first job (no prior on a fresh stack): the cold figure for a first wave of the same job shape",
      );
    }
    if (config.mode === "realtime") {
      limits.push(
        "realtime: no floor, timeline or first-job lag (no batch jobs); chapter latencies are real × scale without the modelled realtime service time",
      );
    }

    const result = {
      chapters: status.chapters.total,
      characters: seed.characters,
      mode: config.mode,
      jobs: usage.jobs,
      speechRequests: requestTotal,
      submitRequests: config.mode === "realtime" ? r.realtime : r.create,
      pollRequests: r.get,
      deleteRequests: r.delete,
      listRequests: r.list,
      throttledRequests: r.throttled,
      realtimeRequests: r.realtime,
      billedInputs: usage.inputs,
      billableCharacters: usage.billableCharacters + usage.realtimeCharacters,
      succeeded: status.chapters.succeeded,
      failed: status.chapters.failed,
      serviceSeconds: round1(serviceSeconds),
      ...(floor !== undefined
        ? { floorSeconds: round1(floor), floorRatio: round3(serviceSeconds / floor) }
        : { floorSeconds: null, floorRatio: null }),
      serviceSpanSeconds: round1(serviceSpanSeconds),
      batchServiceSeconds: round1(batchServiceSeconds),
      realtimeServiceSeconds: round1(realtimeServiceSeconds),
      emulatorCpuLagSeconds: Math.round(emulatorCpuLagSeconds),
      firstMessageLagSeconds: firstLag?.seconds ?? null,
      firstMessageLagRealSeconds: firstLag?.realSeconds ?? null,
      firstMessageLagParts: firstLag?.parts ?? null,
      // Cold: the calibration run's first job (no prior); warm: this run's (the prior the calibration left).
      polling: calibration ? "warm" : "cold",
      ...(calibration
        ? {
            coldFirstMessageLagSeconds: calibration.firstLag?.seconds ?? null,
            coldFirstMessageLagParts: calibration.firstLag?.parts ?? null,
            priorRate: calibration.priorRate,
            calibration: {
              chapters: calibration.chapters,
              jobs: calibration.usage.jobs,
              speechRequests: requestCount(calibration.usage),
              wallSeconds: calibration.wallSeconds,
            },
          }
        : {}),
      // What a publisher waits for before the first video can start (the pilot's point, planning/pilot.ts).
      firstMessageSeconds: latencies.length ? round1(Math.min(...latencies)) : null,
      chapterLatencyP50Seconds: latencies.length ? round1(percentile(latencies, 50) ?? 0) : null,
      chapterLatencyP95Seconds: latencies.length ? round1(percentile(latencies, 95) ?? 0) : null,
      videoMessages: messages.length,
      overheadRatioExcludingEmulatorCpu: round3(
        (simulatedWallSeconds - serviceSeconds - emulatorCpuLagSeconds) / serviceSeconds,
      ),
      wallSeconds: round1(wallSeconds),
      simulatedWallSeconds: Math.round(simulatedWallSeconds),
      simulatedWallHours: Math.round((simulatedWallSeconds / 3600) * 100) / 100,
      overheadRatio: round3((simulatedWallSeconds - serviceSeconds) / serviceSeconds),
      // Lower bound: counts the pipeline's real seconds beyond the scaled service time as if unscaled
      // (CPU work does not speed up with the time scale; overheadRatio above is the upper bound).
      overheadRatioUnscaled: round3((wallSeconds - batchServiceSeconds / scale) / serviceSeconds),
      // The book's time with the pipeline's own (CPU, storage) time counted as real seconds: modelled service
      // + real wall outside it. Comparable across time scales, unlike simulatedWallSeconds (book-compare).
      serviceAndPipelineSeconds: Math.round(serviceSeconds + wallSeconds - batchServiceSeconds / scale),
      peakRssMB: stackResources.peakRssOwnMB,
      peakRssAllProcessesMB: stackResources.peakRssSumOfPeaksMB,
      peakRssAllProcessesSampledMB: stackResources.peakRssSampledMB,
      peakRssByProcessMB: stackResources.peakRssByProcessMB,
      cpuSeconds: stackResources.cpuSeconds,
      wallSecondsPer100Chapters: collected ? round1((wallSeconds / collected) * 100) : null,
      cpuSecondsPer100Chapters: collected ? round1((stackResources.cpuSeconds / collected) * 100) : null,
      v8Flags,
      historyEventsMax,
      instancesChecked: instanceIds.length,
      timeScale: scale,
      maxConcurrentJobs: config.maxConcurrentJobs,
      maxChaptersPerJob: config.maxChaptersPerJob ?? null,
      outputFormat: config.outputFormat,
      limits,
    };

    await mkdir(config.outDir, { recursive: true });
    const files: Record<string, string> = { json: join(config.outDir, `${config.name}.json`) };
    if (batch) {
      const timelineJobs: TimelineJob[] = jobs.map((j, i) => {
        const jobMessages = (messagesByJob.get(j.id) ?? []).map(modelled).sort((a, b) => a - b);
        return {
          label: `job ${i + 1} (${j.billablePerInput.length} ch.)`,
          queuedAt: 0,
          submittedAt: modelled(j.createdAt),
          serviceEndAt: modelled(j.producedEndAt ?? j.endAt ?? j.createdAt),
          ...(jobMessages.length ? { collectedAt: jobMessages.at(-1) } : {}),
          messages: jobMessages,
        };
      });
      files["timeline"] = join(config.outDir, `${config.name}.timeline.svg`);
      await writeFile(
        files["timeline"],
        renderTimelineSvg({
          title: `${config.name}: ${result.chapters} chapters, ${usage.jobs} job${usage.jobs === 1 ? "" : "s"}, ${config.maxConcurrentJobs} at once`,
          subtitle:
            `service ${formatMinutes(serviceSeconds)} vs floor ${formatMinutes(floor ?? 0)} (ratio ${result.floorRatio}), ` +
            `${requestTotal} Speech requests, time scale ${scale} (modelled = real × scale)`,
          jobs: timelineJobs,
          markers:
            floor !== undefined && jobs[0]
              ? [{ at: modelled(jobs[0].createdAt) + floor, label: "floor" }]
              : [],
        }),
      );
    }
    await writeFile(files["json"] as string, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${Object.values(files).join(", ")}`);
    return { ...result, files };
  } finally {
    resources.stop();
    await observer?.stop();
    await video?.stop().catch(() => []);
    if (stack) await stack.stop();
    await rm(stateDir, { recursive: true, force: true }).catch(() => {});
  }
}

function formatMinutes(seconds: number): string {
  return `${round1(seconds / 60)} min`;
}

export type BookBenchResult = Awaited<ReturnType<typeof runBookBench>>;

/** A short table of the fields a reader compares first. */
export function summaryTable(results: BookBenchResult[]): string {
  const columns: [string, (r: BookBenchResult) => unknown][] = [
    ["run", (r) => `c${r.maxConcurrentJobs} n${r.maxChaptersPerJob ?? "-"}`],
    ["jobs", (r) => r.jobs],
    ["service min", (r) => round1(r.serviceSeconds / 60)],
    ["floor min", (r) => (r.floorSeconds === null ? "-" : round1(r.floorSeconds / 60))],
    ["floorRatio", (r) => r.floorRatio ?? "-"],
    ["requests", (r) => r.speechRequests],
    [
      "submit/poll/del/list",
      (r) => `${r.submitRequests}/${r.pollRequests}/${r.deleteRequests}/${r.listRequests}`,
    ],
    [
      "1st msg lag s",
      (r) =>
        "coldFirstMessageLagSeconds" in r
          ? `${r.firstMessageLagSeconds ?? "-"} warm (${r.coldFirstMessageLagSeconds ?? "-"} cold)`
          : `${r.firstMessageLagSeconds ?? "-"} cold`,
    ],
    ["1st msg min", (r) => (r.firstMessageSeconds === null ? "-" : round1(r.firstMessageSeconds / 60))],
    [
      "p50/p95 min",
      (r) =>
        r.chapterLatencyP50Seconds === null
          ? "-"
          : `${round1(r.chapterLatencyP50Seconds / 60)}/${round1((r.chapterLatencyP95Seconds ?? 0) / 60)}`,
    ],
    ["RSS MB", (r) => `${r.peakRssMB} (all ${r.peakRssAllProcessesMB})`],
    ["wall s", (r) => r.wallSeconds],
    ["CPU s/100ch", (r) => r.cpuSecondsPer100Chapters ?? "-"],
  ];
  const rows = [columns.map(([h]) => h), ...results.map((r) => columns.map(([, f]) => String(f(r))))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  return rows.map((row) => row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join("  ")).join("\n");
}

/**
 * Runs a book scenario: one configuration, or a sweep over the list flags one after another (each on a
 * fresh stack). Prints the table on stdout (before main.ts's BENCH line).
 */
export async function runBookScenario(configs: BookBenchConfig[]): Promise<Record<string, unknown>> {
  const results: BookBenchResult[] = [];
  for (const config of configs) {
    process.stderr.write(`--- ${config.name}\n`);
    results.push(await runBookBench(config));
  }
  process.stdout.write(`${summaryTable(results)}\n`);
  if (results.length === 1) return results[0] as BookBenchResult;
  return { sweep: results };
}
