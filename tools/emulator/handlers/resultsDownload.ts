import { pipeline } from "node:stream/promises";
import type { EmulatorServices, RequestContext } from "../context.js";
import { sendBlobError } from "../http.js";
import { knownResultsLayout, readManifest, resultsLayout } from "../resultsArchive.js";
import { jobResultsDir } from "../synthesisEngine.js";
import { loadJob } from "./batchSyntheses.js";
import { resultsPath, verifyResultUrl } from "./resultUrls.js";

export type BlobRange =
  | { kind: "whole" }
  | { kind: "range"; start: number; end: number }
  | { kind: "unsatisfiable" };

/**
 * A Get Blob range as Blob storage reads it ("Specifying the range header for Blob service operations",
 * https://learn.microsoft.com/rest/api/storageservices/specifying-the-range-header-for-blob-service-operations):
 * `x-ms-range` wins over `Range`; two forms, `bytes=start-` and `bytes=start-end`; a start past the blob's end
 * is 416; an end past it is cut to the last byte. Any other form (a suffix `bytes=-N`, several ranges, an end
 * before the start) is not one the docs accept: served here as no range at all (the whole blob, 200), as
 * RFC 9110 lets a server ignore a Range it does not support. What Azure answers to those is UNCONFIRMED.
 */
export function parseBlobRange(header: string | undefined, size: number): BlobRange {
  const match = header ? /^bytes=(\d+)-(\d*)$/.exec(header.trim()) : null;
  if (!match) return { kind: "whole" };
  const start = Number(match[1]);
  const end = match[2] ? Number(match[2]) : Number.POSITIVE_INFINITY;
  if (end < start) return { kind: "whole" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end: Math.min(end, size - 1) };
}

/**
 * `GET|HEAD /batchsynthesis-output/.../{id}/results.zip?<sas>`: served like a blob behind a SAS URL
 * (no key needed; an expired or wrong signature is 403 AuthenticationFailed; a deleted job 404 BlobNotFound).
 * A range produces only the entries it overlaps (resultsArchive.ts `resultsLayout`), so each costs its own length.
 */
export async function downloadResults(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  const id = decodeURIComponent(ctx.params.id as string);
  const method = ctx.req.method === "HEAD" ? "HEAD" : "GET";
  const check = verifyResultUrl(services, resultsPath(id), ctx.url.searchParams);
  if (!check.ok) {
    services.downloads.record({ id, at: services.config.clock.now(), method, status: 403 });
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
  // The manifest (every input's text) is parsed only when the layout is not in memory: a collect makes
  // hundreds of ranged reads of one zip.
  const layout = async () => {
    if (!job?.outcome?.hasResults) return undefined;
    const known = knownResultsLayout(dir);
    if (known) return known;
    const manifest = await readManifest(dir);
    return manifest ? resultsLayout(dir, manifest, new Date(job.createdAt)) : undefined;
  };
  const zip = await layout().catch(() => undefined);
  if (!job || !zip) {
    services.downloads.record({ id, at: services.config.clock.now(), method, status: 404 });
    sendBlobError(ctx.res, 404, "BlobNotFound", "The specified blob does not exist.", ctx.requestId);
    return;
  }
  const headers: Record<string, string> = {
    "content-type": "application/zip",
    "accept-ranges": "bytes",
    "last-modified": new Date(job.producedAt ?? job.createdAt).toUTCString(),
    etag: `"${job.requestHash.slice(0, 16)}"`,
    "x-ms-blob-type": "BlockBlob",
    "x-ms-request-id": ctx.requestId,
  };
  if (method === "HEAD") {
    services.downloads.record({ id, at: services.config.clock.now(), method, status: 200, size: zip.size });
    ctx.res.writeHead(200, { ...headers, "content-length": String(zip.size) });
    ctx.res.end();
    return;
  }
  const rangeHeader = ctx.req.headers["x-ms-range"] ?? ctx.req.headers.range;
  const range = parseBlobRange(typeof rangeHeader === "string" ? rangeHeader : undefined, zip.size);
  if (range.kind === "unsatisfiable") {
    services.downloads.record({ id, at: services.config.clock.now(), method, status: 416, size: zip.size });
    sendBlobError(
      ctx.res,
      416,
      "InvalidRange",
      "The range specified is invalid for the current size of the resource.",
      ctx.requestId,
      { "content-range": `bytes */${zip.size}` },
    );
    return;
  }
  const start = range.kind === "range" ? range.start : 0;
  const end = range.kind === "range" ? range.end : zip.size - 1;
  services.downloads.record({
    id,
    at: services.config.clock.now(),
    method,
    status: range.kind === "range" ? 206 : 200,
    start,
    end,
    size: zip.size,
  });
  ctx.res.writeHead(range.kind === "range" ? 206 : 200, {
    ...headers,
    "content-length": String(end - start + 1),
    ...(range.kind === "range" ? { "content-range": `bytes ${start}-${end}/${zip.size}` } : {}),
  });
  await pipeline(zip.stream(start, end), ctx.res).catch(() => ctx.res.destroy());
}
