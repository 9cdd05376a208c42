import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import { listProjects, readManifest } from "../dashboard/projects.js";
import { buildRunView } from "../dashboard/runView.js";
import { srtToWebVtt } from "../dashboard/subtitles.js";
import type { PipelineDeps } from "../pipeline/deps.js";
import { audioPaths } from "../pipeline/runState.js";
import { downloadBytes, isNotFound } from "../storage/blobs.js";
import { errorResponse, projectIdOf, RequestProblem } from "./errors.js";

/** Project reads for people and the dashboard (CONTRACT §8); all function-level auth. */

const NO_STORE = { "cache-control": "no-store" };

/** `GET /api/projects`: every project in the chapters container with its last run's summary. */
export async function getProjects(deps: PipelineDeps, client: DurableClient): Promise<HttpResponseInit> {
  return { status: 200, headers: NO_STORE, jsonBody: await listProjects(deps, client) };
}

/** `GET /api/projects/{projectId}/manifest`: the manifest as stored, or 404. */
export async function getManifest(deps: PipelineDeps, request: HttpRequest): Promise<HttpResponseInit> {
  const projectId = projectIdOf(request);
  const manifest = await readManifest(deps, projectId);
  if (!manifest) return errorResponse(404, "not-found", `Project ${projectId} has no manifest yet.`);
  return { status: 200, headers: NO_STORE, jsonBody: manifest };
}

/** `GET /api/projects/{projectId}/progress`: the dashboard's read model of the current run. */
export async function getProgress(
  deps: PipelineDeps,
  client: DurableClient,
  request: HttpRequest,
): Promise<HttpResponseInit> {
  const projectId = projectIdOf(request);
  const view = await buildRunView(deps, client, projectId);
  if (!view) return errorResponse(404, "not-found", `Project ${projectId} has never been started.`);
  return { status: 200, headers: NO_STORE, jsonBody: view };
}

/** The chapter's manifest entry, or a 404 refusal (the blob name never comes from the request). */
async function chapterOf(deps: PipelineDeps, request: HttpRequest) {
  const projectId = projectIdOf(request);
  const chapterId = request.params["chapterId"] ?? "";
  const manifest = await readManifest(deps, projectId);
  const chapter = manifest?.chapters.find((c) => c.chapterId === chapterId);
  if (!manifest || !chapter) {
    throw new RequestProblem(404, "not-found", `No chapter ${chapterId} in ${projectId}'s manifest.`);
  }
  return { projectId, chapter };
}

const RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * `GET /api/projects/{projectId}/chapters/{chapterId}/audio`: streams the private audio blob with the
 * app's own storage identity (no SAS, no key leaves the app), honouring a single `Range` so media
 * elements can seek.
 */
export async function streamChapterAudio(
  deps: PipelineDeps,
  request: HttpRequest,
): Promise<HttpResponseInit> {
  const found = await chapterOf(deps, request);
  const blobName = found.chapter.audioBlob;
  if (!blobName) return errorResponse(404, "no-audio", `Chapter ${found.chapter.chapterId} has no audio.`);
  const blob = deps.storage.audio.getBlobClient(blobName);
  let size: number;
  let contentType: string;
  let etag: string | undefined;
  try {
    const properties = await blob.getProperties();
    size = properties.contentLength ?? 0;
    contentType = properties.contentType ?? "application/octet-stream";
    etag = properties.etag;
  } catch (error) {
    if (isNotFound(error))
      return errorResponse(404, "no-audio", `The audio of ${found.chapter.chapterId} is missing.`);
    throw error;
  }
  const headers: Record<string, string> = {
    "content-type": contentType,
    "accept-ranges": "bytes",
    "cache-control": "private, no-cache",
    ...(etag ? { etag } : {}),
  };
  const range = RANGE.exec(request.headers.get("range") ?? "");
  // `bytes=-` (neither bound) is no range: the whole blob, 200, for HEAD and GET alike.
  const ranged = range !== null && Boolean(range[1] || range[2]);
  let start = 0;
  let end = size - 1;
  if (range && ranged) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), size - 1);
    } else {
      start = Math.max(0, size - Number(range[2]));
    }
    if (start > end || start >= size) {
      return { status: 416, headers: { ...headers, "content-range": `bytes */${size}` } };
    }
    headers["content-range"] = `bytes ${start}-${end}/${size}`;
  }
  const count = end - start + 1;
  headers["content-length"] = String(Math.max(0, count));
  if (request.method === "HEAD" || size === 0) return { status: ranged ? 206 : 200, headers };
  const download = await blob.download(start, count);
  return {
    status: ranged ? 206 : 200,
    headers,
    ...(download.readableStreamBody ? { body: download.readableStreamBody as never } : {}),
  };
}

/** `GET /api/projects/{projectId}/chapters/{chapterId}/subtitles[?format=vtt]`: the stored SRT, or WebVTT for `<track>`. */
export async function getChapterSubtitles(
  deps: PipelineDeps,
  request: HttpRequest,
): Promise<HttpResponseInit> {
  const found = await chapterOf(deps, request);
  const format = request.query.get("format") ?? "srt";
  if (format !== "srt" && format !== "vtt") {
    return errorResponse(400, "invalid-request", "format must be srt or vtt.");
  }
  const srt = await downloadBytes(
    deps.storage.audio,
    audioPaths.srt(found.projectId, found.chapter.chapterId),
  );
  if (!srt) return errorResponse(404, "no-subtitles", `Chapter ${found.chapter.chapterId} has no subtitles.`);
  const text = srt.toString("utf8");
  return format === "vtt"
    ? {
        status: 200,
        headers: { "content-type": "text/vtt; charset=utf-8", ...NO_STORE },
        body: srtToWebVtt(text),
      }
    : {
        status: 200,
        headers: { "content-type": "application/x-subrip; charset=utf-8", ...NO_STORE },
        body: text,
      };
}
