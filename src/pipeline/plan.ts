import type { BlobItem } from "@azure/storage-blob";
import { z } from "zod";
import type { Settings } from "../config/settings.js";
import { findOutputFormat } from "../speech/formats.js";
import { downloadBytes, listBlobs, mapLimit, readJson, writeJson, writeText } from "../storage/blobs.js";
import { billableCharacters, validateSsml } from "../text/index.js";
import { foldPronunciationHash } from "../text/pronunciations.js";
import { baseRequestBytes, type InputKind } from "./batchRequest.js";
import type { PipelineDeps } from "./deps.js";
import {
  type EffectiveOptions,
  type ProjectFile,
  projectFileSchema,
  resolveOptions,
  type StartRequest,
} from "./options.js";
import {
  type ChapterSource,
  chunk,
  classifyProjectBlobs,
  countCharacters,
  countWords,
  decodeChapterText,
  inputBytes,
  PROJECT_FILE_NAME,
  type ProjectListing,
  packJobs,
  type RejectReason,
  requestBytes,
  sha256Hex,
} from "./planning.js";
import {
  asBilled,
  loadProjectPronunciations,
  type ProjectPronunciations,
  PronunciationsError,
  pronounceChapter,
  pronunciationPaths,
} from "./pronunciation.js";
import {
  audioPaths,
  type JobChapter,
  type JobSpec,
  type JobSummary,
  type Plan,
  type PlannedChapter,
  type RunTuning,
  runPaths,
  summarizeJob,
} from "./runState.js";
import { readThroughputPrior } from "./throughput.js";

/** Thrown for problems the caller should see as a bad request (e.g. an invalid project.json). */
export class PlanError extends Error {
  override readonly name = "PlanError";
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const READ_CONCURRENCY = 16;

export async function listProject(deps: PipelineDeps, projectId: string): Promise<ProjectListing> {
  const items = await listBlobs(deps.storage.chapters, `${projectId}/`);
  return classifyProjectBlobs(
    projectId,
    items.map((i) => i.name),
  );
}

export async function readProjectFile(deps: PipelineDeps, projectId: string): Promise<ProjectFile> {
  // Only a parse failure is the user's (400); a storage failure propagates as the server's (retried, 500).
  const bytes = await downloadBytes(deps.storage.chapters, `${projectId}/${PROJECT_FILE_NAME}`);
  if (!bytes) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new PlanError("invalid-project-file", `${PROJECT_FILE_NAME} is not valid JSON.`);
  }
  const parsed = projectFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PlanError(
      "invalid-project-file",
      `${PROJECT_FILE_NAME} has invalid values.`,
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return parsed.data;
}

export function runTuning(settings: Settings): RunTuning {
  return {
    maxChapterAttempts: settings.MAX_CHAPTER_ATTEMPTS,
    maxPayloadBytes: settings.MAX_JOB_PAYLOAD_BYTES,
    realtimeConcurrency: settings.REALTIME_CONCURRENCY,
    expectedCharsPerSecond: settings.EXPECTED_BATCH_CHARS_PER_SECOND,
    pollMinMs: settings.POLL_MIN_SECONDS * 1000,
    pollMaxMs: Math.max(settings.POLL_MAX_SECONDS, settings.POLL_MIN_SECONDS) * 1000,
    jobTimeoutMs: settings.JOB_TIMEOUT_MINUTES * 60_000,
    pollsPerExecution: settings.POLLS_PER_EXECUTION,
  };
}

/** The chapter as a Batch input: plain text as written, SSML documents as they are. */
export function inputKindOf(kind: ChapterSource["kind"]): InputKind {
  return kind === "ssml" ? "SSML" : "PlainText";
}

interface ExistingAudio {
  byName: Map<string, BlobItem>;
}

function isUnchanged(
  chapter: { chapterId: string; textSha256: string },
  projectId: string,
  options: EffectiveOptions,
  existing: ExistingAudio,
): BlobItem | undefined {
  const extension = findOutputFormat(options.outputFormat)?.extension ?? "bin";
  const audio = existing.byName.get(audioPaths.audio(projectId, chapter.chapterId, extension));
  const meta = audio?.metadata ?? {};
  if (!audio) return undefined;
  if (meta["textsha256"] !== chapter.textSha256) return undefined;
  if (meta["voice"] !== options.voice) return undefined;
  if ((meta["outputformat"] ?? "").toLowerCase() !== options.outputFormat.toLowerCase()) return undefined;
  if (options.wordBoundaries) {
    // The subtitles must be those of this text: a run without word boundaries may have replaced the audio
    // while older subtitles stayed behind (outputs.ts now deletes them, and stamps new ones with the hash).
    for (const name of [
      audioPaths.srt(projectId, chapter.chapterId),
      audioPaths.words(projectId, chapter.chapterId),
    ]) {
      if (existing.byName.get(name)?.metadata?.["textsha256"] !== chapter.textSha256) return undefined;
    }
  }
  return audio;
}

/** A chapter of the previous manifest, as far as carrying it over needs. */
const previousChapterSchema = z.object({
  chapterId: z.string(),
  textSha256: z.string(),
  status: z.string(),
  reason: z.string().nullish(),
  durationMs: z.number().nullish(),
  sizeBytes: z.number().nullish(),
  batchJobId: z.string().nullish(),
  attempts: z.number().int().nonnegative().nullish(),
  mode: z.enum(["batch", "realtime"]).nullish(),
});
type PreviousChapter = z.infer<typeof previousChapterSchema>;

async function readPreviousChapters(
  deps: PipelineDeps,
  projectId: string,
): Promise<Map<string, PreviousChapter>> {
  const raw = await readJson<unknown>(deps.storage.audio, audioPaths.manifest(projectId)).catch(
    () => undefined,
  );
  const list = z.object({ chapters: z.array(z.unknown()) }).safeParse(raw);
  const byId = new Map<string, PreviousChapter>();
  for (const entry of list.success ? list.data.chapters : []) {
    const parsed = previousChapterSchema.safeParse(entry);
    if (parsed.success) byId.set(parsed.data.chapterId, parsed.data);
  }
  return byId;
}

/** Reason of a chapter outside a `chapters` subset that has no current audio (never made, or for other text). */
export const NOT_SELECTED_REASON = "not-selected";

/**
 * A chapter outside the run's `chapters` subset, as the manifest lists it: rejected if its input is bad;
 * with current audio, its previous status (`succeeded`/`unchanged`, else `unchanged`) and details; a
 * previous failure of the same text stays `failed`; otherwise `failed` with reason `not-selected`.
 */
function carryChapter(
  assessed: PlannedChapter,
  audio: BlobItem | undefined,
  previous: PreviousChapter | undefined,
): PlannedChapter {
  const carried: PlannedChapter = { ...assessed, carried: true };
  if (assessed.status === "rejected") return carried;
  const same = previous && previous.textSha256 === assessed.textSha256 ? previous : undefined;
  const details = {
    ...(same?.batchJobId ? { batchJobId: same.batchJobId } : {}),
    ...(same?.attempts ? { attempts: same.attempts } : {}),
    ...(same?.mode ? { mode: same.mode } : {}),
  };
  if (audio) {
    const durationMs = Number(audio.metadata?.["durationms"]);
    return {
      ...carried,
      ...details,
      status: same?.status === "succeeded" ? "succeeded" : "unchanged",
      audioBlob: audio.name,
      sizeBytes: audio.properties.contentLength ?? 0,
      ...(Number.isFinite(durationMs) ? { durationMs } : {}),
    };
  }
  if (same?.status === "failed") {
    return { ...carried, ...details, status: "failed", reason: same.reason ?? NOT_SELECTED_REASON };
  }
  return { ...carried, status: "failed", reason: NOT_SELECTED_REASON };
}

/** Pronunciations of a run being planned (issue 14): the project's rules and where planned inputs go. */
interface PronunciationContext {
  pronunciations: ProjectPronunciations | undefined;
  runId: string;
  /** Planned SSML inputs by chapter id, written by planning (never by estimates). */
  inputs: Map<string, string>;
}

/**
 * The project's pronunciations, or a {@link PlanError} `invalid-pronunciations` naming the bad entries:
 * checked at start and in the estimate, before anything is planned or sent.
 */
export async function readProjectPronunciations(
  deps: PipelineDeps,
  projectId: string,
): Promise<ProjectPronunciations | undefined> {
  try {
    return await loadProjectPronunciations(deps.storage.chapters, projectId);
  } catch (error) {
    if (error instanceof PronunciationsError) throw new PlanError(error.code, error.message, error.issues);
    throw error;
  }
}

/** Reads and judges one chapter: rejected with a reason, unchanged, or pending with its sizes. */
async function assessChapter(
  deps: PipelineDeps,
  projectId: string,
  source: ChapterSource,
  options: EffectiveOptions,
  existing: ExistingAudio,
  maxPayloadBytes: number,
  pron: PronunciationContext,
): Promise<PlannedChapter> {
  const base = {
    chapterId: source.chapterId,
    index: source.index,
    sourceBlob: source.sourceBlob,
    kind: source.kind,
  };
  const reject = (reason: RejectReason, fields: Partial<PlannedChapter> = {}): PlannedChapter => ({
    ...base,
    characters: 0,
    billableCharacters: 0,
    textSha256: "",
    inputBytes: 0,
    ...fields,
    status: "rejected",
    reason,
  });
  const bytes = (await downloadBytes(deps.storage.chapters, source.sourceBlob)) ?? Buffer.alloc(0);
  const text = decodeChapterText(bytes);
  if (text === undefined) return reject("invalid-encoding");
  const textSha256 = sha256Hex(text);
  const characters = countCharacters(text);
  const measured = { characters, textSha256 };
  if (text.trim() === "") return reject("empty", measured);
  if (source.kind === "ssml") {
    const validation = validateSsml(text);
    if (!validation.ok) return reject("invalid-ssml", measured);
  }
  // Pronunciations (issue 14): a chapter using a listed term is sent as SSML, and the rules it uses are
  // part of its hash, so editing one entry re-synthesizes exactly the chapters that contain it.
  const pronounced = pron.pronunciations
    ? pronounceChapter(text, source.kind, options.voice, pron.pronunciations, options.mode)
    : undefined;
  const content = pronounced?.ssml ?? text;
  const kind = pronounced ? "SSML" : inputKindOf(source.kind);
  const size = inputBytes(pronounced ? asBilled(content, deps.work.url.length + 40) : content);
  const baseBytes = baseRequestBytes(kind, options.voice, options.outputFormat, options.wordBoundaries);
  if (requestBytes(baseBytes, [size]) > maxPayloadBytes) return reject("too-large", measured);
  const planned: PlannedChapter = {
    ...base,
    ...(pronounced
      ? {
          kind: "ssml" as const,
          inputBlob: pronunciationPaths.input(projectId, pron.runId, source.chapterId),
        }
      : {}),
    characters,
    words: countWords(text, source.kind),
    billableCharacters: billableCharacters(
      pronounced ? asBilled(content, deps.work.url.length + 40) : content,
      kind,
    ),
    textSha256: foldPronunciationHash(textSha256, pronounced?.usedHash),
    inputBytes: size,
    status: "pending",
  };
  if (pronounced) pron.inputs.set(source.chapterId, content);
  if (!options.force) {
    const audio = isUnchanged(planned, projectId, options, existing);
    if (audio) {
      const durationMs = Number(audio.metadata?.["durationms"]);
      return {
        ...planned,
        status: "unchanged",
        audioBlob: audio.name,
        sizeBytes: audio.properties.contentLength ?? 0,
        ...(Number.isFinite(durationMs) ? { durationMs } : {}),
      };
    }
  }
  return planned;
}

export function toJobChapter(c: PlannedChapter, attempts = 0): JobChapter {
  return {
    chapterId: c.chapterId,
    index: c.index,
    sourceBlob: c.sourceBlob,
    kind: c.kind,
    characters: c.characters,
    billableCharacters: c.billableCharacters,
    textSha256: c.textSha256,
    inputBytes: c.inputBytes,
    ...(c.inputBlob ? { inputBlob: c.inputBlob } : {}),
    attempts,
  };
}

/**
 * Packs chapters into jobs numbered from `firstJobNumber`: batch jobs per input kind under both limits,
 * or realtime groups of `maxChaptersPerJob`.
 */
export function buildJobs(
  chapters: readonly JobChapter[],
  mode: "batch" | "realtime",
  options: Pick<EffectiveOptions, "voice" | "outputFormat" | "wordBoundaries" | "maxChaptersPerJob">,
  maxPayloadBytes: number,
  firstJobNumber: number,
): JobSpec[] {
  const jobs: JobSpec[] = [];
  let jobNumber = firstJobNumber;
  if (mode === "realtime") {
    for (const group of chunk(chapters, options.maxChaptersPerJob)) {
      jobs.push({ jobNumber: jobNumber++, mode, chapters: group });
    }
    return jobs;
  }
  for (const kind of ["PlainText", "SSML"] as const) {
    const ofKind = chapters.filter((c) => inputKindOf(c.kind) === kind);
    if (ofKind.length === 0) continue;
    const baseBytes = baseRequestBytes(kind, options.voice, options.outputFormat, options.wordBoundaries);
    const packed = packJobs(
      ofKind.map((c) => c.inputBytes),
      { maxInputs: options.maxChaptersPerJob, maxPayloadBytes, baseBytes },
    );
    for (const indices of packed) {
      jobs.push({
        jobNumber: jobNumber++,
        mode,
        inputKind: kind,
        chapters: indices.map((i) => ofKind[i] as JobChapter),
      });
    }
  }
  return jobs;
}

export interface PlanInput {
  projectId: string;
  runId: string;
  instanceId: string;
  request: StartRequest;
  /** The start body's `chapters` subset, stored by the start handler (work container). */
  chaptersBlob?: string;
}

export interface PlanCounts {
  /** Every chapter of the project, including those outside a `chapters` subset. */
  total: number;
  pending: number;
  unchanged: number;
  rejected: number;
  /** Chapters outside a `chapters` subset carried over as succeeded or failed. */
  succeeded: number;
  failed: number;
  ignored: number;
  characters: number;
  /** Spoken words of the pending chapters. */
  words: number;
  billableCharacters: number;
}

/** What the orchestrator gets back from planning: counts and job summaries, never chapter text or lists. */
export interface PlanResult {
  planBlob: string;
  options: Omit<EffectiveOptions, "chapters">;
  tuning: RunTuning;
  counts: PlanCounts;
  jobs: JobSummary[];
}

export interface PlannedRun {
  plan: Plan;
  jobs: JobSpec[];
  counts: PlanCounts;
  /** Planned SSML inputs of chapters that use pronunciations, and the lexicon to snapshot (issue 14). */
  pronunciationInputs?: Map<string, string>;
  lexiconSource?: string;
}

/** Lists, reads, judges and packs a project's chapters (no writes): shared by planning and estimates. */
export async function assessProject(deps: PipelineDeps, input: PlanInput): Promise<PlannedRun> {
  const { projectId } = input;
  const [listing, projectFile, audioItems, pronunciations] = await Promise.all([
    listProject(deps, projectId),
    readProjectFile(deps, projectId),
    listBlobs(deps.storage.audio, `${projectId}/`, { metadata: true }),
    readProjectPronunciations(deps, projectId),
  ]);
  const pron: PronunciationContext = { pronunciations, runId: input.runId, inputs: new Map() };
  const options = resolveOptions(input.request, projectFile, deps.settings);
  const tuning = runTuning(deps.settings);
  const wanted = options.chapters ? new Set(options.chapters) : undefined;
  const previous = wanted ? await readPreviousChapters(deps, projectId) : new Map<string, PreviousChapter>();
  const existing: ExistingAudio = { byName: new Map(audioItems.map((i) => [i.name, i])) };
  // Every chapter is assessed, so the manifest of a subset run still lists the whole book (CONTRACT §2).
  const chapters = await mapLimit(listing.chapters, READ_CONCURRENCY, async (source) => {
    const assessed = await assessChapter(
      deps,
      projectId,
      source,
      options,
      existing,
      tuning.maxPayloadBytes,
      pron,
    );
    if (!wanted || wanted.has(source.chapterId)) return assessed;
    const audio =
      assessed.status === "rejected" ? undefined : isUnchanged(assessed, projectId, options, existing);
    return carryChapter(assessed, audio, previous.get(source.chapterId));
  });
  const pending = chapters.filter((c) => c.status === "pending");
  const jobs = buildJobs(
    pending.map((c) => toJobChapter(c)),
    options.mode,
    options,
    tuning.maxPayloadBytes,
    1,
  );
  const plan: Plan = {
    projectId,
    runId: input.runId,
    instanceId: input.instanceId,
    createdAt: deps.now().toISOString(),
    options,
    tuning,
    chapters,
    ignored: listing.ignored,
    initialJobs: jobs.length,
  };
  return {
    plan,
    jobs,
    counts: countsOf(plan),
    pronunciationInputs: pron.inputs,
    ...(pronunciations?.lexicon ? { lexiconSource: pronunciations.lexicon.source } : {}),
  };
}

const requestedChaptersSchema = z.object({ chapters: z.array(z.string().min(1)).min(1) });

/** The start body with its `chapters` subset read back from the work container. */
async function withRequestedChapters(deps: PipelineDeps, input: PlanInput): Promise<PlanInput> {
  if (!input.chaptersBlob) return input;
  const stored = await readJson(deps.work, input.chaptersBlob, requestedChaptersSchema);
  if (!stored) throw new Error(`The run's chapter list ${input.chaptersBlob} is missing.`);
  return { ...input, request: { ...input.request, chapters: stored.chapters } };
}

/** Planning activity: assesses the project and saves the plan and job lists as blobs (idempotent). */
export async function planProject(deps: PipelineDeps, input: PlanInput): Promise<PlanResult> {
  const planBlob = runPaths.plan(input.projectId, input.runId);
  // A replayed or retried planning re-uses the saved plan, so job contents never change under a run.
  const saved = await readJson<Plan>(deps.work, planBlob);
  let run: PlannedRun;
  if (saved) {
    const jobs: JobSpec[] = [];
    for (let n = 1; n <= (saved.initialJobs ?? 0); n++) {
      const job = await readJson<JobSpec>(deps.work, runPaths.job(input.projectId, input.runId, n));
      if (job) jobs.push(job);
    }
    run = { plan: saved, jobs, counts: countsOf(saved) };
  } else {
    await Promise.all([
      deps.work.createIfNotExists(),
      deps.storage.audio.createIfNotExists(),
      deps.storage.videoQueue.createIfNotExists(),
    ]);
    run = await assessProject(deps, await withRequestedChapters(deps, input));
    // Earlier runs' throughput, saved with the plan: the first job's poll plan starts from it.
    const priorRate = await readThroughputPrior(deps);
    if (priorRate) run.plan.tuning.priorRate = priorRate;
    await savePronunciationInputs(deps, input, run);
    await mapLimit(run.jobs, READ_CONCURRENCY, (job) =>
      writeJson(deps.work, runPaths.job(input.projectId, input.runId, job.jobNumber), job),
    );
    await writeJson(deps.work, planBlob, run.plan);
  }
  // The subset stays in plan.json; the orchestration gets counts.
  const { chapters: _subset, ...options } = run.plan.options;
  return {
    planBlob,
    options,
    tuning: run.plan.tuning,
    counts: run.counts,
    jobs: run.jobs.map(summarizeJob),
  };
}

/** Saves the planned SSML of pending chapters that use pronunciations, and the run's lexicon snapshot. */
async function savePronunciationInputs(deps: PipelineDeps, input: PlanInput, run: PlannedRun) {
  const pending = run.plan.chapters.filter((c) => c.status === "pending" && c.inputBlob);
  await mapLimit(pending, READ_CONCURRENCY, async (c) => {
    const content = run.pronunciationInputs?.get(c.chapterId);
    if (content === undefined || !c.inputBlob) throw new Error(`No planned input for ${c.chapterId}.`);
    await writeText(deps.work, c.inputBlob, content, "application/ssml+xml; charset=utf-8");
  });
  if (run.lexiconSource !== undefined && pending.length > 0) {
    const name = pronunciationPaths.lexicon(input.projectId, input.runId);
    await writeText(deps.work, name, run.lexiconSource, "application/pls+xml; charset=utf-8");
  }
}

function countsOf(plan: Plan): PlanCounts {
  const pending = plan.chapters.filter((c) => c.status === "pending");
  const count = (status: PlannedChapter["status"]) => plan.chapters.filter((c) => c.status === status).length;
  return {
    total: plan.chapters.length,
    pending: pending.length,
    unchanged: count("unchanged"),
    rejected: count("rejected"),
    succeeded: count("succeeded"),
    failed: count("failed"),
    ignored: plan.ignored.length,
    characters: pending.reduce((n, c) => n + c.characters, 0),
    words: pending.reduce((n, c) => n + (c.words ?? 0), 0),
    billableCharacters: pending.reduce((n, c) => n + c.billableCharacters, 0),
  };
}
