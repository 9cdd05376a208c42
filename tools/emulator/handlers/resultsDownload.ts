import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { EmulatorServices, RequestContext } from "../context.js";
import { sendBlobError } from "../http.js";
import { readManifest, zipResults } from "../resultsArchive.js";
import { jobResultsDir } from "../synthesisEngine.js";
import { loadJob } from "./batchSyntheses.js";
import { resultsPath, verifyResultUrl } from "./resultUrls.js";

function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = header ? /^bytes=(\d+)-(\d*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  return start <= end ? { start, end } : undefined;
}

/** Passes through bytes [start, end] of a stream (ranged reads of the generated zip). */
function slice(start: number, end: number): Transform {
  let position = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const from = Math.max(0, start - position);
      const to = Math.min(chunk.length, end + 1 - position);
      position += chunk.length;
      done(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
}

/**
 * `GET|HEAD /batchsynthesis-output/.../{id}/results.zip?<sas>`: served like a blob behind a SAS URL
 * (no key needed; an expired or wrong signature is 403 AuthenticationFailed; a deleted job 404 BlobNotFound).
 */
export async function downloadResults(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  const id = decodeURIComponent(ctx.params.id as string);
  const check = verifyResultUrl(services, resultsPath(id), ctx.url.searchParams);
  if (!check.ok) {
    sendBlobError(
      ctx.res,
      403,
      "AuthenticationFailed",
      `Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature. ${check.detail}`,
      ctx.requestId,
    );
    return;
  }
  const job = loadJob(services, id);
  const dir = job ? jobResultsDir(services.store, job) : "";
  const manifest = job?.outcome?.hasResults ? await readManifest(dir) : undefined;
  if (!job || !manifest) {
    sendBlobError(ctx.res, 404, "BlobNotFound", "The specified blob does not exist.", ctx.requestId);
    return;
  }
  const zip = await zipResults(dir, manifest, new Date(job.createdAt));
  const headers: Record<string, string> = {
    "content-type": "application/zip",
    "accept-ranges": "bytes",
    "last-modified": new Date(job.producedAt ?? job.createdAt).toUTCString(),
    etag: `"${job.requestHash.slice(0, 16)}"`,
    "x-ms-blob-type": "BlockBlob",
    "x-ms-request-id": ctx.requestId,
  };
  const rangeHeader = ctx.req.headers["x-ms-range"] ?? ctx.req.headers.range;
  const range = parseRange(typeof rangeHeader === "string" ? rangeHeader : undefined, zip.size);
  if (ctx.req.method === "HEAD") {
    zip.stream.destroy();
    ctx.res.writeHead(200, { ...headers, "content-length": String(zip.size) });
    ctx.res.end();
    return;
  }
  if (range) {
    ctx.res.writeHead(206, {
      ...headers,
      "content-length": String(range.end - range.start + 1),
      "content-range": `bytes ${range.start}-${range.end}/${zip.size}`,
    });
    await pipeline(zip.stream, slice(range.start, range.end), ctx.res).catch(() => ctx.res.destroy());
    return;
  }
  ctx.res.writeHead(200, { ...headers, "content-length": String(zip.size) });
  await pipeline(zip.stream, ctx.res).catch(() => ctx.res.destroy());
}
