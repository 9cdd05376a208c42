import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import type { BlobServiceClient } from "@azure/storage-blob";
import { orderBy } from "natural-orderby";
import { assertProjectId } from "./api.js";

/** What the pipeline reads from `chapters/{projectId}/` (CONTRACT §2). */
const CONTENT_TYPES: Record<string, string> = {
  ".txt": "text/plain; charset=utf-8",
  ".ssml": "application/ssml+xml; charset=utf-8",
};
const PROJECT_FILE = "project.json";
/** Project files uploaded beside the chapters: settings, and the pronunciation list and lexicon (issue 14). */
const PROJECT_FILES = new Set([PROJECT_FILE, "pronunciations.json", "lexicon.pls"]);
const JSON_FILES = new Set([PROJECT_FILE, "pronunciations.json"]);

export interface UploadOptions {
  /** Local folder holding `*.txt`, `*.ssml` and optionally `project.json`. */
  dir: string;
  projectId: string;
  blobService: BlobServiceClient;
  /** Defaults to `chapters` (CONTRACT §5). */
  containerName?: string;
  /** Delete blobs under `{projectId}/` that are not in the folder (so removed chapters do not linger). */
  replace?: boolean;
  /** Called once per uploaded file, in natural order. */
  onFile?: (name: string, bytes: number) => void;
  /** Uploads in flight at once. */
  concurrency?: number;
}

export interface UploadResult {
  containerName: string;
  /** Blob names written, in natural order. */
  uploaded: string[];
  /** Local files that are not chapters and were not uploaded. */
  skipped: string[];
  /** Blobs removed because of `replace`. */
  deleted: string[];
  bytes: number;
}

/** Lists a folder's chapter files (and `project.json`) in natural order, and what it skips. */
export async function listChapterFiles(dir: string): Promise<{ files: string[]; skipped: string[] }> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`Cannot read folder ${dir}: ${error.code ?? error.message}`);
  });
  const files: string[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) {
      if (!entry.name.startsWith(".")) skipped.push(entry.name);
      continue;
    }
    const isChapter = extname(entry.name).toLowerCase() in CONTENT_TYPES;
    if (isChapter || PROJECT_FILES.has(entry.name)) files.push(entry.name);
    else if (!entry.name.startsWith(".")) skipped.push(entry.name);
  }
  return { files: orderBy(files), skipped: orderBy(skipped) };
}

/**
 * Uploads a book folder to `chapters/{projectId}/`. Bytes go up exactly as they are on disk
 * (a UTF-8 BOM or invalid bytes included): validating and cleaning text is the pipeline's job, and
 * it reports what it rejects. `project.json` must be valid JSON, since a broken one would fail a run late.
 */
export async function uploadProject(options: UploadOptions): Promise<UploadResult> {
  const projectId = assertProjectId(options.projectId);
  const containerName = options.containerName ?? "chapters";
  const { files, skipped } = await listChapterFiles(options.dir);
  if (!files.some((f) => !PROJECT_FILES.has(f))) {
    throw new Error(`No chapters (*.txt, *.ssml) in ${options.dir}.`);
  }
  const container = options.blobService.getContainerClient(containerName);
  await container.createIfNotExists();

  const contents = new Map<string, Buffer>();
  for (const name of files) {
    const path = join(options.dir, name);
    if ((await stat(path)).size > 50 * 1024 * 1024) throw new Error(`${name} is larger than 50 MB.`);
    const bytes = await readFile(path);
    if (JSON_FILES.has(name)) {
      try {
        JSON.parse(bytes.toString("utf8"));
      } catch (error) {
        throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
      }
    }
    contents.set(name, bytes);
  }

  const uploaded: string[] = [];
  let total = 0;
  const queue = [...files];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const bytes = contents.get(name)!;
      const blobName = `${projectId}/${name}`;
      const contentType =
        CONTENT_TYPES[extname(name).toLowerCase()] ??
        (name.endsWith(".pls") ? "application/pls+xml; charset=utf-8" : "application/json; charset=utf-8");
      await container.getBlockBlobClient(blobName).uploadData(bytes, {
        blobHTTPHeaders: { blobContentType: contentType },
      });
      uploaded.push(blobName);
      total += bytes.length;
      options.onFile?.(blobName, bytes.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));

  const deleted: string[] = [];
  if (options.replace) {
    const keep = new Set(uploaded);
    for await (const blob of container.listBlobsFlat({ prefix: `${projectId}/` })) {
      if (!keep.has(blob.name)) {
        await container.deleteBlob(blob.name, { deleteSnapshots: "include" });
        deleted.push(blob.name);
      }
    }
  }
  return { containerName, uploaded: orderBy(uploaded), skipped, deleted: orderBy(deleted), bytes: total };
}
