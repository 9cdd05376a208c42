import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BlobItem, BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { mapLimit } from "../concurrency.js";
import { type Manifest, manifestSchema } from "../pipeline/manifest.js";
import { audioPaths } from "../pipeline/runState.js";
import { isNotFound } from "../storage/blobs.js";

/**
 * `tts-pipeline download <id> --out <dir>`: a project's audio, subtitles (SRT and word boundaries) and
 * manifest from the audio container, each streamed to disk. A file already there is skipped when its size
 * and MD5 match the blob (the blob's Content-MD5, or, for blobs stored without one, the MD5 recorded by an
 * earlier download of the same blob version, in `.tts-download.json`).
 */
export interface DownloadOptions {
  projectId: string;
  outDir: string;
  blobService: BlobServiceClient;
  containerName: string;
  concurrency?: number;
  onFile?: (file: string, action: "downloaded" | "skipped", bytes: number) => void;
}

export interface DownloadResult {
  outDir: string;
  downloaded: string[];
  skipped: string[];
  /** Chapters without audio (failed, rejected): nothing to fetch. */
  withoutAudio: string[];
  bytes: number;
}

/** Per output folder: what each file was downloaded from (blob version and the file's MD5). */
const STATE_FILE = ".tts-download.json";
interface StateEntry {
  blob: string;
  etag: string;
  size: number;
  md5: string;
}

export class DownloadError extends Error {}

async function readManifest(container: ContainerClient, projectId: string): Promise<Manifest> {
  let bytes: Buffer;
  try {
    bytes = await container.getBlobClient(audioPaths.manifest(projectId)).downloadToBuffer();
  } catch (error) {
    if (isNotFound(error)) {
      throw new DownloadError(
        `Project ${projectId} has no manifest in ${container.containerName}: it has not run yet.`,
      );
    }
    throw error;
  }
  const parsed = manifestSchema.safeParse(JSON.parse(bytes.toString("utf8")));
  if (!parsed.success) throw new DownloadError(`${audioPaths.manifest(projectId)} is not a manifest.`);
  return parsed.data;
}

/** Listings give ETags bare, downloads quoted. */
const normalizeEtag = (etag: string | undefined) => (etag ?? "").replace(/^"|"$/g, "");

async function md5OfFile(file: string): Promise<string> {
  const hash = createHash("md5");
  await pipeline(createReadStream(file), hash);
  return hash.digest("base64");
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

export async function downloadProject(options: DownloadOptions): Promise<DownloadResult> {
  const container = options.blobService.getContainerClient(options.containerName);
  const manifest = await readManifest(container, options.projectId);
  const prefix = `${options.projectId}/`;
  // The chapters' outputs as listed now (with size, MD5 and version), so nothing is fetched twice to learn them.
  const listed = new Map<string, BlobItem>();
  for await (const item of container.listBlobsFlat({ prefix })) listed.set(item.name, item);
  const wanted: string[] = [];
  const withoutAudio: string[] = [];
  for (const chapter of manifest.chapters) {
    if (!chapter.audioBlob) {
      withoutAudio.push(chapter.chapterId);
      continue;
    }
    for (const name of [
      chapter.audioBlob,
      audioPaths.srt(options.projectId, chapter.chapterId),
      audioPaths.words(options.projectId, chapter.chapterId),
    ]) {
      if (listed.has(name)) wanted.push(name);
    }
  }

  const outDir = path.resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const statePath = path.join(outDir, STATE_FILE);
  const state: Record<string, StateEntry> = await readFile(statePath, "utf8")
    .then((text) => JSON.parse(text) as Record<string, StateEntry>)
    .catch(() => ({}));

  const result: DownloadResult = { outDir, downloaded: [], skipped: [], withoutAudio, bytes: 0 };
  const fetchOne = async (blobName: string, item: BlobItem | undefined, fileName: string) => {
    const file = path.join(outDir, fileName);
    if (path.dirname(file) !== outDir)
      throw new DownloadError(`Refusing to write outside ${outDir}: ${fileName}`);
    const size = item?.properties.contentLength;
    const contentMd5 = item?.properties.contentMD5
      ? Buffer.from(item.properties.contentMD5).toString("base64")
      : undefined;
    const etag = normalizeEtag(item?.properties.etag);
    const known = state[fileName];
    if (item && (await sizeOf(file)) === size) {
      const expected =
        contentMd5 ?? (known && known.blob === blobName && known.etag === etag ? known.md5 : undefined);
      if (expected && (await md5OfFile(file)) === expected) {
        result.skipped.push(fileName);
        options.onFile?.(fileName, "skipped", size ?? 0);
        return;
      }
    }
    const download = await container.getBlobClient(blobName).download();
    if (!download.readableStreamBody) throw new DownloadError(`${blobName} has no content stream.`);
    const hash = createHash("md5");
    let bytes = 0;
    const tee = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    // Into a temporary name first: an interrupted download never leaves a truncated file under the real name.
    const partial = `${file}.part`;
    try {
      await pipeline(download.readableStreamBody, tee, createWriteStream(partial));
      const md5 = hash.digest("base64");
      if (contentMd5 && md5 !== contentMd5)
        throw new DownloadError(`${blobName}: MD5 mismatch after download.`);
      await rename(partial, file);
      state[fileName] = { blob: blobName, etag: normalizeEtag(download.etag) || etag, size: bytes, md5 };
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    result.downloaded.push(fileName);
    result.bytes += bytes;
    options.onFile?.(fileName, "downloaded", bytes);
  };

  try {
    await mapLimit(wanted, options.concurrency ?? 4, (name) =>
      fetchOne(name, listed.get(name), name.slice(prefix.length)),
    );
    // The manifest last: once it is there, every file it names is too.
    const manifestName = audioPaths.manifest(options.projectId);
    await fetchOne(manifestName, listed.get(manifestName), "manifest.json");
  } finally {
    await writeFile(statePath, `${JSON.stringify(state, null, 2)}\n`);
  }
  result.downloaded.sort();
  result.skipped.sort();
  return result;
}

/** Audio container name (CONTRACT §5 `AUDIO_CONTAINER`). */
export function audioContainerName(env: NodeJS.ProcessEnv = process.env): string {
  return env["AUDIO_CONTAINER"] || "audio";
}
