import { baseRequestBytes, type InputKind } from "../batchRequest.js";
import type { EffectiveOptions } from "../options.js";
import type { ChapterKind, JobChapter, JobSpec, PlannedChapter } from "./schema.js";

/**
 * Packing, pure: the chapters that need synthesis into as few Batch Synthesis jobs as the limits allow
 * (inputs per job, request bytes measured like the serialized body), or into realtime groups.
 */

/** Bytes one input adds to the serialized request: `{"content":"…"}` in UTF-8. */
export function inputBytes(content: string): number {
  return Buffer.byteLength(JSON.stringify({ content }), "utf8");
}

/** Serialized size of a request whose inputs take `inputSizes` bytes each (commas between inputs). */
export function requestBytes(baseBytes: number, inputSizes: readonly number[]): number {
  if (inputSizes.length === 0) return baseBytes;
  return baseBytes + inputSizes.reduce((a, b) => a + b, 0) + inputSizes.length - 1;
}

export interface PackLimits {
  maxInputs: number;
  maxPayloadBytes: number;
  /** Size of the request with an empty `inputs` array. */
  baseBytes: number;
}

/**
 * Packs items (their input sizes, in chapter order) into the fewest jobs under both limits. Next-fit keeps
 * chapter order inside and across jobs, and is then evened out: the same number of jobs, their input counts
 * differing by at most one, when the bytes allow (else at most ceil(items / jobs) each, else as packed):
 * 1,432 chapters go in 15 jobs of 95–96 rather than 14 of 100 and one of 32, so equal jobs end together on
 * their lanes and a rate measured on one job predicts the next. When next-fit uses more jobs than the lower
 * bound, first-fit decreasing is tried and kept if it needs fewer. Returns item indices per job, each
 * ascending. Every size must fit alone (callers reject larger chapters as `too-large` first).
 */
export function packJobs(sizes: readonly number[], limits: PackLimits): number[][] {
  if (sizes.length === 0) return [];
  const maxInputs = Math.max(1, limits.maxInputs);
  for (const [i, s] of sizes.entries()) {
    if (requestBytes(limits.baseBytes, [s]) > limits.maxPayloadBytes) {
      throw new RangeError(`Item ${i} (${s} bytes) does not fit in a job on its own.`);
    }
  }
  const fits = (bytes: number, count: number, size: number) =>
    fitsInJob(bytes, count, size, maxInputs, limits.maxPayloadBytes);

  const nextFit = nextFitPack(sizes, maxInputs, limits);
  const evenedOut = () => {
    const even = evenSplit(sizes.length, nextFit.length);
    const fitsAlone = (job: number[]) =>
      job.length <= maxInputs &&
      requestBytes(
        limits.baseBytes,
        job.map((i) => sizes[i] as number),
      ) <= limits.maxPayloadBytes;
    if (even.every(fitsAlone)) return even;
    const capped = nextFitPack(sizes, Math.ceil(sizes.length / nextFit.length), limits);
    return capped.length === nextFit.length ? capped : nextFit;
  };

  const total = sizes.reduce((a, b) => a + b + 1, 0);
  const lowerBound = Math.max(
    Math.ceil(sizes.length / maxInputs),
    Math.ceil(total / Math.max(1, limits.maxPayloadBytes - limits.baseBytes)),
  );
  if (nextFit.length <= lowerBound) return evenedOut();

  const bins: { items: number[]; bytes: number }[] = [];
  const order = sizes.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [size, i] of order) {
    const bin = bins.find((b) => fits(b.bytes, b.items.length, size));
    if (bin) {
      bin.bytes += size + (bin.items.length > 0 ? 1 : 0);
      bin.items.push(i);
    } else {
      bins.push({ items: [i], bytes: limits.baseBytes + size });
    }
  }
  if (bins.length >= nextFit.length) return evenedOut();
  return bins.map((b) => b.items.sort((x, y) => x - y)).sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));
}

/** `count` items in `jobs` consecutive runs whose lengths differ by at most one. */
function evenSplit(count: number, jobs: number): number[][] {
  const base = Math.floor(count / jobs);
  const longer = count % jobs;
  const out: number[][] = [];
  let next = 0;
  for (let j = 0; j < jobs; j++) {
    const length = base + (j < longer ? 1 : 0);
    out.push(Array.from({ length }, (_, k) => next + k));
    next += length;
  }
  return out;
}

/** Whether an input of `size` bytes joins a job of `count` inputs and `bytes` bytes (a comma between inputs). */
function fitsInJob(bytes: number, count: number, size: number, maxInputs: number, maxBytes: number): boolean {
  return count < maxInputs && bytes + size + (count > 0 ? 1 : 0) <= maxBytes;
}

/** Order-preserving next-fit: a new job when the next item would break either limit. */
function nextFitPack(sizes: readonly number[], maxInputs: number, limits: PackLimits): number[][] {
  const jobs: number[][] = [];
  let current: number[] = [];
  let bytes = limits.baseBytes;
  for (const [i, size] of sizes.entries()) {
    if (!fitsInJob(bytes, current.length, size, maxInputs, limits.maxPayloadBytes)) {
      jobs.push(current);
      current = [];
      bytes = limits.baseBytes;
    }
    bytes += size + (current.length > 0 ? 1 : 0);
    current.push(i);
  }
  jobs.push(current);
  return jobs;
}

/** Groups items into consecutive runs of at most `size` (realtime groups, retry groups without byte limits). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)));
  return out;
}

/** The chapter as a Batch input: plain text as written, SSML documents as they are. */
export function inputKindOf(kind: ChapterKind): InputKind {
  return kind === "ssml" ? "SSML" : "PlainText";
}

/** A planned chapter as a job lists it, with the attempts it has used so far. */
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
