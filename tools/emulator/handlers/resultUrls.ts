import { createHmac, timingSafeEqual } from "node:crypto";
import type { EmulatorServices } from "../context.js";

/** Path of a job's results.zip, shaped like the service's Microsoft-managed storage URL (S1). */
export function resultsPath(jobId: string): string {
  return `/batchsynthesis-output/speech-emulator/${encodeURIComponent(jobId)}/results.zip`;
}

const SAS_VERSION = "2024-08-04";

function sign(secret: Buffer, path: string, start: string, expiry: string): string {
  return createHmac("sha256", secret).update(`${path}\n${start}\n${expiry}`).digest("base64");
}

/** A read-only, expiring, signed URL (blob SAS style) for a job's results. */
export function signedResultUrl(services: EmulatorServices, baseUrl: string, jobId: string): string {
  const now = services.config.clock.now();
  const lifetimeMs = (services.config.resultUrlTtlSeconds * 1000) / services.config.timeScale;
  const start = new Date(now).toISOString();
  const expiry = new Date(now + lifetimeMs).toISOString();
  const path = resultsPath(jobId);
  const query = new URLSearchParams({
    skoid: "speech-emulator",
    sv: SAS_VERSION,
    st: start,
    se: expiry,
    sr: "b",
    sp: "r",
  });
  query.set("sig", sign(services.sasSecret, path, start, expiry));
  return `${baseUrl}${path}?${query.toString()}`;
}

export type SasCheck = { ok: true } | { ok: false; detail: string };

export function verifyResultUrl(services: EmulatorServices, path: string, query: URLSearchParams): SasCheck {
  const start = query.get("st");
  const expiry = query.get("se");
  const signature = query.get("sig");
  if (!start || !expiry || !signature) return { ok: false, detail: "Signature fields not well formed." };
  const expected = Buffer.from(sign(services.sasSecret, path, start, expiry));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, detail: "Signature did not match." };
  }
  const now = services.config.clock.now();
  if (Date.parse(expiry) <= now) {
    return {
      ok: false,
      detail: `Signed expiry time [${new Date(expiry).toUTCString()}] must be after signed start time [${new Date(now).toUTCString()}]`,
    };
  }
  return { ok: true };
}
