import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import yauzl from "yauzl";
import { summaryResultSchema, summarySchema, type WordBoundary, wordBoundariesSchema } from "./models.js";

/** Job-level facts from `summary.json`. */
export interface SynthesisSummary {
  jobId?: string;
  status?: string;
  /** Number of inputs (entries in `summary.json`, or audio files when it is missing). */
  inputs: number;
  succeeded: number;
  failed: number;
}

export interface SynthesisResultEntry {
  /** 1-based position of the input in the create request. */
  index: number;
  status: "Succeeded" | "Failed" | (string & {});
  audioFileName?: string;
  sizeInBytes?: number;
  durationInMilliseconds?: number;
  /** Exact size of the audio file in the zip (its directory entry), so it can be uploaded unbuffered. */
  audioBytes?: number;
  error?: { code?: string; message: string };
  /** The audio file, streamed from the zip on disk (never buffered whole). */
  openAudio(): Promise<NodeJS.ReadableStream>;
  /** Word boundaries from `[nnnn].word.json`; undefined when the job did not produce them. */
  readWordBoundaries(): Promise<WordBoundary[] | undefined>;
}

/** An opened `results.zip`; call `close()` to release the file and delete the temp copy. */
export interface SynthesisResults {
  summary: SynthesisSummary;
  /** Reads of the job (Speech API GETs) the opening made: 0 when the result URL it was given still worked. */
  jobReads?: number;
  entries(): AsyncIterable<SynthesisResultEntry>;
  close(): Promise<void>;
}

/** A private temp directory for one download. */
export async function makeResultsTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "tts-results-"));
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    ),
  );
}

/** Reads the central directory only: names and offsets, no file data. */
function readDirectory(zip: yauzl.ZipFile): Promise<Map<string, yauzl.Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, yauzl.Entry>();
    zip.on("entry", (entry: yauzl.Entry) => {
      if (!entry.fileName.endsWith("/")) entries.set(entry.fileName.replace(/^\.?\//, ""), entry);
      zip.readEntry();
    });
    zip.once("end", () => resolve(entries));
    zip.once("error", reject);
    zip.readEntry();
  });
}

function openEntryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      // A stream handed out may fail (a cut or stalled range) before its consumer listens. yauzl only emits
      // that 'error': unheard it ends the process, and a consumer that starts later waits forever. Destroying
      // the stream with it keeps it (`errored`), so the later pipe or read fails at once.
      stream.on("error", (error) => stream.destroy(error));
      resolve(stream);
    }),
  );
}

async function readEntryText(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await openEntryStream(zip, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/^\uFEFF/, "");
}

const pad = (n: number): string => String(n).padStart(4, "0");

/** The input number in a result file name (`0007.mp3`, `0007.word.json` → 7), if it has one. */
export function fileNumberOf(fileName: string | undefined): number | undefined {
  const match = fileName ? /^(?:.*\/)?(\d{4,})\./.exec(fileName) : null;
  const n = match ? Number(match[1]) : Number.NaN;
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/**
 * Puts `summary.json` rows at their inputs' positions by the number in their file names: the docs promise only
 * that the `[nnnn]` prefix follows input order (batch-synthesis.md, "Batch synthesis results"), not the order of
 * `results`. Rows without a numbered file (a failed input has no audio; their shape is undocumented) fill the
 * positions left over, in the order they appear. With no numbered row at all, the order is kept as is.
 */
type FileNames = { audioFileName?: string; wordBoundaryFileName?: string; sentenceBoundaryFileName?: string };
export function placeByFileNumber<T extends { parsed: FileNames }>(rows: T[]): (T | undefined)[] {
  const numberOf = (row: T) =>
    fileNumberOf(row.parsed.audioFileName) ??
    fileNumberOf(row.parsed.wordBoundaryFileName) ??
    fileNumberOf(row.parsed.sentenceBoundaryFileName);
  const placed: (T | undefined)[] = [];
  const unnumbered: T[] = [];
  for (const row of rows) {
    const n = numberOf(row);
    if (n === undefined || placed[n - 1] !== undefined) unnumbered.push(row);
    else placed[n - 1] = row;
  }
  const length = Math.max(rows.length, placed.length);
  for (let i = 0; i < length && unnumbered.length > 0; i++) {
    if (placed[i] === undefined) placed[i] = unnumbered.shift();
  }
  placed.length = length;
  return placed;
}

function errorOf(raw: Record<string, unknown>): { code?: string; message: string } | undefined {
  const candidates = [raw.error, (raw.properties as Record<string, unknown> | undefined)?.error];
  for (const candidate of candidates) {
    if (typeof candidate === "string" && candidate) return { message: candidate };
    if (candidate && typeof candidate === "object") {
      const e = candidate as { code?: unknown; message?: unknown };
      const code = typeof e.code === "string" ? e.code : undefined;
      const message = typeof e.message === "string" ? e.message : (code ?? "Failed");
      return code ? { code, message } : { message };
    }
  }
  const message =
    (typeof raw.errorMessage === "string" && raw.errorMessage) ||
    (typeof (raw.properties as Record<string, unknown> | undefined)?.errorMessage === "string" &&
      ((raw.properties as Record<string, unknown>).errorMessage as string));
  if (message) return typeof raw.errorCode === "string" ? { code: raw.errorCode, message } : { message };
  return undefined;
}

/**
 * Opens a downloaded `results.zip` for random access. Only the central directory and `summary.json`
 * (without the echoed input texts) are read into memory; each audio file is streamed on demand.
 * `cleanup` runs on close (deletes the temp copy).
 */
export async function openResultsZip(
  zipPath: string,
  cleanup: () => Promise<void>,
): Promise<SynthesisResults> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(zipPath);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return openResultsArchive(zip, cleanup);
}

/**
 * Opens a `results.zip` read through `reader` (ranged reads of the blob: see rangeReader.ts) of `size` bytes.
 * The same as {@link openResultsZip}, except that nothing is downloaded ahead: the directory comes from the
 * end of the file, and each entry's bytes are read when it is opened.
 */
export async function openRangedResultsZip(
  reader: yauzl.RandomAccessReader,
  size: number,
  cleanup: () => Promise<void>,
): Promise<SynthesisResults> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(
        reader,
        size,
        { lazyEntries: true, autoClose: false, decodeStrings: true },
        (err, opened) => (err ? reject(err) : resolve(opened)),
      ),
    );
  } catch (error) {
    await cleanup();
    throw error;
  }
  return openResultsArchive(zip, cleanup);
}

type SummaryRow =
  | { raw: Record<string, unknown>; parsed: ReturnType<typeof summaryResultSchema.parse> }
  | undefined;
interface SummaryRows {
  rows: SummaryRow[];
  jobId?: string | undefined;
  status?: string | undefined;
}

/** The inputs' rows, from `summary.json` or, without one, from the numbered audio files. */
async function readSummaryRows(
  zip: yauzl.ZipFile,
  directory: Map<string, yauzl.Entry>,
): Promise<SummaryRows> {
  let rows: SummaryRow[] = [];
  let jobId: string | undefined;
  let status: string | undefined;
  const summaryEntry = directory.get("summary.json");
  if (summaryEntry) {
    // `contents` echoes every input's text: drop it while parsing so a big book is not kept twice.
    const parsed = summarySchema.parse(
      JSON.parse(await readEntryText(zip, summaryEntry), (key, value) =>
        key === "contents" ? undefined : value,
      ),
    );
    jobId = parsed.jobID ?? parsed.jobId;
    status = parsed.status;
    rows = placeByFileNumber(
      parsed.results.map((r) => {
        const raw = (r && typeof r === "object" ? r : {}) as Record<string, unknown>;
        return { raw, parsed: summaryResultSchema.parse(raw) };
      }),
    );
  } else {
    // No summary: one row per numbered audio file, in order.
    const numbered = [...directory.keys()]
      .map((name) => /^(\d{4,})\.(?!debug|word|sentence)([a-z0-9]+)$/i.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]));
    for (const m of numbered) {
      const raw = { status: "Succeeded", audioFileName: m[0] };
      rows[Number(m[1]) - 1] = { raw, parsed: summaryResultSchema.parse(raw) };
    }
  }

  return { rows, jobId, status };
}

async function openResultsArchive(
  zip: yauzl.ZipFile,
  cleanup: () => Promise<void>,
): Promise<SynthesisResults> {
  let directory: Map<string, yauzl.Entry>;
  let summaryRows: SummaryRows;
  try {
    directory = await readDirectory(zip);
    summaryRows = await readSummaryRows(zip, directory);
  } catch (error) {
    zip.close();
    await cleanup();
    throw error;
  }
  const { rows, jobId, status } = summaryRows;
  const summary: SynthesisSummary = {
    ...(jobId ? { jobId } : {}),
    ...(status ? { status } : {}),
    inputs: rows.length,
    succeeded: rows.filter((r) => r?.parsed.status === "Succeeded").length,
    failed: rows.filter((r) => r?.parsed.status === "Failed").length,
  };
  let closed = false;

  const entryAt = (i: number): SynthesisResultEntry => {
    const row = rows[i];
    const index = i + 1;
    const parsed = row?.parsed;
    const audioFileName = parsed?.audioFileName;
    const wordFile = parsed?.wordBoundaryFileName ?? `${pad(index)}.word.json`;
    const error = row ? errorOf(row.raw) : undefined;
    const sizeInBytes = parsed?.properties?.sizeInBytes;
    const durationInMilliseconds = parsed?.properties?.durationInMilliseconds;
    const audioEntry = audioFileName ? directory.get(audioFileName) : undefined;
    return {
      index,
      status: parsed?.status ?? "Missing",
      ...(audioFileName ? { audioFileName } : {}),
      ...(sizeInBytes !== undefined ? { sizeInBytes } : {}),
      ...(durationInMilliseconds !== undefined ? { durationInMilliseconds } : {}),
      ...(audioEntry ? { audioBytes: audioEntry.uncompressedSize } : {}),
      ...(error ? { error } : {}),
      async openAudio() {
        if (closed) throw new Error("The synthesis results are closed.");
        const entry = audioFileName ? directory.get(audioFileName) : undefined;
        if (!entry)
          throw new Error(
            `Input ${index} has no audio file in results.zip (status ${parsed?.status ?? "missing"}).`,
          );
        return openEntryStream(zip, entry);
      },
      async readWordBoundaries() {
        if (closed) throw new Error("The synthesis results are closed.");
        const entry = directory.get(wordFile);
        if (!entry) return undefined;
        return wordBoundariesSchema.parse(JSON.parse(await readEntryText(zip, entry)));
      },
    };
  };

  return {
    summary,
    async *entries() {
      for (let i = 0; i < rows.length; i++) yield entryAt(i);
    },
    async close() {
      if (closed) return;
      closed = true;
      zip.close();
      await cleanup();
    },
  };
}

/** Removes a temp directory made by {@link makeResultsTempDir}. */
export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}
