import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { findOutputFormat } from "../../src/speech/formats.js";
import { fastAudio } from "./audio/render.js";
import type { ResultsManifest, UnitManifest } from "./model.js";
import { boundaryJson, planSegments, slowPlan } from "./text.js";
import { ZipLayout } from "./zipLayout.js";

export const MANIFEST_FILE = "manifest.json";

export async function writeManifest(dir: string, manifest: ResultsManifest): Promise<void> {
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
}

export async function readManifest(dir: string): Promise<ResultsManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST_FILE), "utf8")) as ResultsManifest;
  } catch {
    return undefined;
  }
}

const pad = (n: number) => String(n).padStart(4, "0");

export function wordFileName(unit: UnitManifest): string {
  return `${pad(unit.number)}.word.json`;
}
export function sentenceFileName(unit: UnitManifest): string {
  return `${pad(unit.number)}.sentence.json`;
}
export function debugFileName(unit: UnitManifest): string {
  return `${pad(unit.number)}.debug.json`;
}

/**
 * A permutation of `count` items seeded by `seed`, never the identity when count >= 2. The docs only promise
 * that the `[nnnn]` file-name prefix follows input order (batch-synthesis.md, "Batch synthesis results"), not
 * the order of `summary.json`'s `results`; shuffling makes a client that maps by position fail here (CONTRACT §8).
 */
export function summaryOrder(count: number, seed: string): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  const digest = createHash("sha256").update(seed).digest();
  let state = digest.readUInt32LE(0);
  const next = () => {
    // mulberry32: small, deterministic, good enough to scramble an order.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  if (count >= 2 && order.every((v, i) => v === i)) order.push(order.shift() as number);
  return order;
}

/** summary.json as the service writes it (S1): sizes and durations are strings; results not in input order. */
export function summaryJson(manifest: ResultsManifest): Buffer {
  const inInputOrder = manifest.units.map((unit) => {
    if (unit.status === "Failed") {
      return { contents: unit.contents, status: "Failed", error: unit.error };
    }
    const entry: Record<string, unknown> = {
      contents: unit.contents,
      status: "Succeeded",
      audioFileName: unit.audioFileName,
    };
    const sidecars = new Set(unit.sidecars.map((s) => s.name));
    if (sidecars.has(wordFileName(unit))) entry.wordBoundaryFileName = wordFileName(unit);
    if (sidecars.has(sentenceFileName(unit))) entry.sentenceBoundaryFileName = sentenceFileName(unit);
    entry.properties = {
      sizeInBytes: String(unit.sizeInBytes),
      durationInMilliseconds: String(unit.durationInMilliseconds),
    };
    return entry;
  });
  const results = summaryOrder(inInputOrder.length, manifest.jobId).map((i) => inInputOrder[i]);
  return Buffer.from(JSON.stringify({ jobID: manifest.jobId, status: manifest.status, results }, null, 2));
}

function debugJson(manifest: ResultsManifest, unit: UnitManifest): Buffer {
  return Buffer.from(
    JSON.stringify(
      {
        resultId: `${manifest.jobId}-${pad(unit.number)}`,
        status: unit.status,
        engine: `speech-emulator (${unit.engine})`,
        billedCharacters: unit.billedCharacters,
        durationInMilliseconds: unit.durationInMilliseconds,
        error: unit.error,
      },
      null,
      2,
    ),
  );
}

/** A file's bytes from disk. (A function of its own: the closure holds the path, not the unit and its texts.) */
function fileAt(path: string): () => Readable {
  return () => createReadStream(path);
}

/**
 * Boundaries of results produced before the fast path wrote them (`generated`): planned again on each read, by
 * the same function that measured the recorded size.
 */
function regenerated(spokenTexts: string[], slowdown: number, kind: "word" | "sentence"): () => Readable {
  return () =>
    Readable.from([
      boundaryJson(
        planSegments(spokenTexts).map((plan) => slowPlan(plan, slowdown)),
        kind,
      ),
    ]);
}

export interface ResultFile {
  name: string;
  size: number;
  open(): Readable;
}

/** The files of a job's results, in zip order: per unit audio, debug, word, sentence; then summary.json. */
export function resultFiles(dir: string, manifest: ResultsManifest): ResultFile[] {
  const files: ResultFile[] = [];
  const buffer = (name: string, data: Buffer): ResultFile => ({
    name,
    size: data.length,
    open: () => Readable.from([data]),
  });
  for (const unit of manifest.units) {
    if (unit.status === "Succeeded" && unit.audio && unit.audioFileName) {
      const audio = unit.audio;
      if (audio.kind === "file") {
        files.push({
          name: unit.audioFileName,
          size: unit.sizeInBytes,
          open: () => createReadStream(join(dir, audio.file)),
        });
      } else {
        const format = findOutputFormat(audio.format);
        if (!format) throw new Error(`unknown format ${audio.format}`);
        const fast = fastAudio(format, audio.durationMs);
        files.push({ name: unit.audioFileName, size: fast.sizeInBytes, open: () => fast.open() });
      }
    }
    files.push(buffer(debugFileName(unit), debugJson(manifest, unit)));
    for (const sidecar of unit.sidecars) {
      files.push({
        name: sidecar.name,
        size: sidecar.size,
        open: sidecar.generated
          ? regenerated(unit.spokenTexts ?? [], unit.slowdown ?? 1, sidecar.generated)
          : fileAt(join(dir, sidecar.name)),
      });
    }
  }
  files.push(buffer("summary.json", summaryJson(manifest)));
  return files;
}

/** Layouts kept, by job instance (a deleted job's is dropped at once; see forgetResultsLayout). */
const KEPT_LAYOUTS = 16;
const layouts = new Map<string, Promise<ZipLayout>>();

/**
 * The job's results.zip as a {@link ZipLayout}: entries stored, CRCs computed once (one pass over the audio,
 * generated or read, no copy written), shared by every request meanwhile. Each download or range then produces
 * only the bytes it covers: rebuilding the zip from byte 0 per request made a collect's n ranged reads cost
 * O(n × zip size). Built by the engine before the job can turn Succeeded (Azure's outputs exist when the
 * status says so); a download after a restart builds it again.
 */
export function resultsLayout(dir: string, manifest: ResultsManifest, mtime: Date): Promise<ZipLayout> {
  const known = layouts.get(dir);
  if (known) return known;
  const layout = ZipLayout.build(resultFiles(dir, manifest), mtime);
  layouts.set(dir, layout);
  layout.catch(() => layouts.delete(dir));
  for (const oldest of layouts.keys()) {
    if (layouts.size <= KEPT_LAYOUTS) break;
    layouts.delete(oldest);
  }
  return layout;
}

/** The layout already built for a job's results, if any: no need to read its manifest again. */
export function knownResultsLayout(dir: string): Promise<ZipLayout> | undefined {
  return layouts.get(dir);
}

/** Drops a deleted job's layout (it holds the job's summary and the texts its word files are made from). */
export function forgetResultsLayout(dir: string): void {
  layouts.delete(dir);
}
