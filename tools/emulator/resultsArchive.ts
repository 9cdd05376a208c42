import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import yazl from "yazl";
import { findOutputFormat } from "../../src/speech/formats.js";
import { fastAudio } from "./audio/render.js";
import type { ResultsManifest, UnitManifest } from "./model.js";
import { boundaryJson, planSegments, slowPlan } from "./text.js";

export const MANIFEST_FILE = "manifest.json";

/**
 * yazl checksums entries with the pure-JS buffer-crc32 (~85 MB/s here), which dominates zipping a book's
 * audio. Node 20.15+ has a native zlib.crc32 with the same result; hand it to yazl's copy when present.
 */
function useNativeCrc32(): void {
  const native = (zlib as unknown as { crc32?: (data: Buffer, value?: number) => number }).crc32;
  if (!native) return;
  const yazlRequire = createRequire(createRequire(import.meta.url).resolve("yazl"));
  const crc32 = yazlRequire("buffer-crc32") as { unsigned: (data: Buffer, previous?: number) => number };
  crc32.unsigned = (data, previous) =>
    native(Buffer.isBuffer(data) ? data : Buffer.from(data), previous ?? 0);
}
useNativeCrc32();

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
      const kind = sidecar.generated;
      files.push({
        name: sidecar.name,
        size: sidecar.size,
        // Fast path: regenerated on read by the same function that measured the recorded size.
        open: () =>
          kind
            ? Readable.from([
                boundaryJson(
                  planSegments(unit.spokenTexts ?? []).map((plan) => slowPlan(plan, unit.slowdown ?? 1)),
                  kind,
                ),
              ])
            : createReadStream(join(dir, sidecar.name)),
      });
    }
  }
  files.push(buffer("summary.json", summaryJson(manifest)));
  return files;
}

/**
 * Streams results.zip (entries stored, not deflated: audio does not compress, and stored entries give
 * the exact size up front for Content-Length). Audio is read from disk or generated while zipping.
 */
export function zipResults(
  dir: string,
  manifest: ResultsManifest,
  mtime: Date,
): Promise<{ stream: Readable; size: number }> {
  const zip = new yazl.ZipFile();
  // yazl reports a failing entry stream on the ZipFile, not on its output: end the download with it.
  zip.on("error", (error: Error) => (zip.outputStream as unknown as Readable).destroy(error));
  const files = resultFiles(dir, manifest);
  for (const file of files) {
    zip.addReadStreamLazy(file.name, { size: file.size, compress: false, mtime }, (cb) => {
      const stream = file.open();
      // yazl does not listen for entry stream errors; unhandled they would crash the emulator.
      stream.once("error", (error) => (zip.outputStream as unknown as Readable).destroy(error));
      cb(null, stream);
    });
  }
  return new Promise((resolve) => {
    // yazl passes the final size once every entry's size is known (the typings omit the argument).
    const onSize = ((size: number) =>
      resolve({
        stream: zip.outputStream as unknown as Readable,
        size: size - yazlSizeError(files),
      })) as () => void;
    zip.end(undefined, onSize);
  });
}

export const RESULTS_ZIP_FILE = "results.zip";

/** Zips being written, by path: concurrent callers share one write. */
const materializing = new Map<string, Promise<{ path: string; size: number }>>();

/**
 * The job's results.zip as a file in its results directory, written once (to a temp name, then renamed, so
 * a reader never sees half a zip) and shared by every caller meanwhile. Ranged reads are then served from
 * the file, each costing its own length: regenerating the zip per request made a collect's n ranged reads
 * cost O(n × zip size). The engine writes it while the job is still Running on its timeline (Azure's outputs
 * exist when the status says Succeeded); a download of a job produced before this file existed writes it then.
 */
export function materializeResultsZip(
  dir: string,
  manifest: ResultsManifest,
  mtime: Date,
): Promise<{ path: string; size: number }> {
  const path = join(dir, RESULTS_ZIP_FILE);
  const pending = materializing.get(path);
  if (pending) return pending;
  const work = (async () => {
    const existing = await stat(path).catch(() => undefined);
    if (existing) return { path, size: existing.size };
    const zip = await zipResults(dir, manifest, mtime);
    const temp = `${path}.${randomUUID()}.tmp`;
    try {
      await pipeline(zip.stream, createWriteStream(temp));
      const written = (await stat(temp)).size;
      if (written !== zip.size) throw new Error(`results.zip is ${written} bytes, expected ${zip.size}`);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { path, size: zip.size };
  })().finally(() => materializing.delete(path));
  materializing.set(path, work);
  return work;
}

/**
 * yazl 3.3.1 predicts a ZIP64 end record once the central directory reaches 64 KB, but writes one only
 * from 4 GB: its predicted size is then 76 bytes too large. Returns that error so Content-Length is exact.
 */
function yazlSizeError(files: ResultFile[]): number {
  let cursor = 0;
  let centralDirectory = 0;
  for (const file of files) {
    const name = Buffer.byteLength(file.name);
    const zip64 = file.size > 0xfffffffe || cursor > 0xfffffffe;
    cursor += 30 + name + file.size + (zip64 ? 24 : 16);
    centralDirectory += 46 + name + 9 + (zip64 ? 28 : 0);
  }
  const predicted = files.length >= 0xffff || centralDirectory >= 0xffff || cursor >= 0xffffffff;
  const written = files.length >= 0xffff || centralDirectory >= 0xffffffff || cursor >= 0xffffffff;
  return predicted && !written ? 76 : 0;
}
