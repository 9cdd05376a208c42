import type { Settings } from "../../config/settings.js";
import { billableCharacters, validateSsml } from "../../text/index.js";
import { foldPronunciationHash } from "../../text/pronunciations.js";
import { baseRequestBytes } from "../batchRequest.js";
import type { EffectiveOptions } from "../options.js";
import {
  carryChapter,
  type ExistingOutputs,
  existingAudioFields,
  isUnchanged,
  type PreviousChapter,
} from "./changes.js";
import {
  type ChapterSource,
  countCharacters,
  countWords,
  decodeChapterText,
  type RejectReason,
  sha256Hex,
} from "./chapters.js";
import { buildJobs, inputBytes, inputKindOf, requestBytes, toJobChapter } from "./packing.js";
import { withPilot } from "./pilot.js";
import type { ChapterKind, JobSpec, PlannedChapter, RunTuning } from "./schema.js";

/**
 * Assessment, pure: the verdict on one chapter from its bytes (rejected with a reason, unchanged, carried
 * or pending with its sizes), and the whole project's chapters packed into jobs and counted. planRun.ts
 * reads what this needs and saves what it decides.
 */

/** Limits and timings of a run, fixed at planning time so the orchestrators never read settings. */
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
    pilotChapters: settings.PILOT_CHAPTERS,
    pilotPollMs: Math.min(settings.PILOT_POLL_SECONDS, settings.POLL_MIN_SECONDS) * 1000,
  };
}

/** What judging a chapter needs besides its bytes. */
export interface ChapterContext {
  projectId: string;
  options: EffectiveOptions;
  existing: ExistingOutputs;
  maxPayloadBytes: number;
  /** The project's pronunciations (issue 14), when it has any. */
  pronounce?: Pronounce;
  /**
   * Where a run saves the planned SSML of a chapter using pronunciations. An estimate has no run and so no
   * such name: its chapters carry no `inputBlob` (nothing else differs).
   */
  inputBlobOf?: (chapterId: string) => string;
  /** A `chapters` subset: the others are carried over from the previous manifest, never synthesized. */
  subset?: { wanted: ReadonlySet<string>; previous: ReadonlyMap<string, PreviousChapter> };
}

/**
 * A chapter's text with the project's pronunciations applied, or undefined when it uses none of them (it is
 * then sent as it is). The use case binds the project's rules, voice and mode (planning/pronunciations.ts).
 */
export type Pronounce = (text: string, kind: ChapterKind) => PronouncedText | undefined;

export interface PronouncedText {
  /** The SSML the chapter is sent as (batch: with the lexicon placeholder, replaced by a SAS at submit). */
  ssml: string;
  /** The same SSML as the service will get it, placeholder replaced by a URL as long: measured and billed. */
  billed: string;
  /** Hash of the rules the chapter uses, folded into its change-detection hash. */
  usedHash: string;
}

export interface ChapterVerdict {
  chapter: PlannedChapter;
  /** The SSML a chapter using pronunciations is sent as (saved by a run at `chapter.inputBlob`). */
  pronouncedInput?: string;
}

/**
 * Judges one chapter from its bytes (undefined: the blob is gone, judged as empty bytes): rejected with a
 * reason, unchanged with its current audio, pending with its sizes; outside a `chapters` subset, carried.
 */
export function assessChapter(
  source: ChapterSource,
  bytes: Uint8Array | undefined,
  context: ChapterContext,
): ChapterVerdict {
  const verdict = judgeChapter(source, bytes ?? new Uint8Array(0), context);
  const { subset } = context;
  // Every chapter is assessed, so the manifest of a subset run still lists the whole book (CONTRACT §2).
  if (!subset || subset.wanted.has(source.chapterId)) return verdict;
  const { chapter } = verdict;
  const audio =
    chapter.status === "rejected"
      ? undefined
      : isUnchanged(chapter, context.projectId, context.options, context.existing);
  return { ...verdict, chapter: carryChapter(chapter, audio, subset.previous.get(source.chapterId)) };
}

function judgeChapter(source: ChapterSource, bytes: Uint8Array, context: ChapterContext): ChapterVerdict {
  const { options, pronounce, inputBlobOf } = context;
  const base = {
    chapterId: source.chapterId,
    index: source.index,
    sourceBlob: source.sourceBlob,
    kind: source.kind,
  };
  const reject = (reason: RejectReason, fields: Partial<PlannedChapter> = {}): ChapterVerdict => ({
    chapter: {
      ...base,
      characters: 0,
      billableCharacters: 0,
      textSha256: "",
      inputBytes: 0,
      ...fields,
      status: "rejected",
      reason,
    },
  });
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
  const pronounced = pronounce?.(text, source.kind);
  const content = pronounced?.ssml ?? text;
  const billed = pronounced?.billed ?? text;
  const kind = pronounced ? "SSML" : inputKindOf(source.kind);
  const size = inputBytes(billed);
  const baseBytes = baseRequestBytes(kind, options.voice, options.outputFormat, options.wordBoundaries);
  if (requestBytes(baseBytes, [size]) > context.maxPayloadBytes) return reject("too-large", measured);
  const planned: PlannedChapter = {
    ...base,
    ...(pronounced ? { kind: "ssml" as const } : {}),
    ...(pronounced && inputBlobOf ? { inputBlob: inputBlobOf(source.chapterId) } : {}),
    characters,
    words: countWords(text, source.kind),
    billableCharacters: billableCharacters(billed, kind),
    textSha256: foldPronunciationHash(textSha256, pronounced?.usedHash),
    inputBytes: size,
    status: "pending",
  };
  const verdict: ChapterVerdict = { chapter: planned, ...(pronounced ? { pronouncedInput: content } : {}) };
  if (options.force) return verdict;
  const audio = isUnchanged(planned, context.projectId, options, context.existing);
  return audio
    ? { ...verdict, chapter: { ...planned, status: "unchanged", ...existingAudioFields(audio) } }
    : verdict;
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

export function countChapters(chapters: readonly PlannedChapter[], ignored: readonly string[]): PlanCounts {
  const pending = chapters.filter((c) => c.status === "pending");
  const count = (status: PlannedChapter["status"]) => chapters.filter((c) => c.status === status).length;
  return {
    total: chapters.length,
    pending: pending.length,
    unchanged: count("unchanged"),
    rejected: count("rejected"),
    succeeded: count("succeeded"),
    failed: count("failed"),
    ignored: ignored.length,
    characters: pending.reduce((n, c) => n + c.characters, 0),
    words: pending.reduce((n, c) => n + (c.words ?? 0), 0),
    billableCharacters: pending.reduce((n, c) => n + c.billableCharacters, 0),
  };
}

/** A project's chapters judged, packed and counted: what a run would do (nothing read or written here). */
export interface ProjectAssessment {
  options: EffectiveOptions;
  tuning: RunTuning;
  /** Every chapter of the project, in natural order. */
  chapters: PlannedChapter[];
  /** Names under the project that are neither chapters nor project files. */
  ignored: string[];
  /** Jobs 1..n of the pending chapters. */
  jobs: JobSpec[];
  counts: PlanCounts;
  /** Planned SSML of chapters that use pronunciations, by chapter id, and the lexicon to snapshot (issue 14). */
  pronunciationInputs: Map<string, string>;
  lexiconSource?: string;
}

/** Packs the pending chapters of judged verdicts into jobs 1..n and counts them. */
export function completeAssessment(
  verdicts: readonly ChapterVerdict[],
  ignored: string[],
  options: EffectiveOptions,
  tuning: RunTuning,
  lexiconSource: string | undefined,
): ProjectAssessment {
  const chapters = verdicts.map((v) => v.chapter);
  const pending = chapters.filter((c) => c.status === "pending");
  const jobs = withPilot(
    buildJobs(
      pending.map((c) => toJobChapter(c)),
      options.mode,
      options,
      tuning.maxPayloadBytes,
      1,
    ),
    tuning.pilotChapters ?? 0,
    options.maxConcurrentJobs,
  );
  const pronunciationInputs = new Map<string, string>();
  for (const v of verdicts) {
    if (v.pronouncedInput !== undefined) pronunciationInputs.set(v.chapter.chapterId, v.pronouncedInput);
  }
  return {
    options,
    tuning,
    chapters,
    ignored,
    jobs,
    counts: countChapters(chapters, ignored),
    pronunciationInputs,
    ...(lexiconSource !== undefined ? { lexiconSource } : {}),
  };
}
