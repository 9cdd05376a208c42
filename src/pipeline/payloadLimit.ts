import { RestError } from "@azure/core-rest-pipeline";
import { z } from "zod";
import { readJson, writeJson } from "../storage/blobs.js";
import type { JobRef } from "./contracts.js";
import type { PipelineDeps } from "./deps.js";

/**
 * The create-body limit is contested: the articles say 2 MB (batch-synthesis.md, batch-synthesis-properties.md),
 * the 2024-04-01 spec 500 KB (batchsynthesis.json). A job refused as too large (413, or a 400 that names the
 * payload size) is split again with a smaller limit, without spending its chapters' attempts. No orchestrator
 * change: the submit activity records the refusal and fails; the collect activity, seeing the record, schedules
 * the chapters for retry with their attempts unchanged; the plan-retries activity packs them under half the
 * refused size. Later jobs at least that large are refused here before they are sent.
 */
export const payloadPaths = {
  refusal: (projectId: string, runId: string, jobNumber: number) =>
    `${projectId}/${runId}/payload/refused-${jobNumber}.json`,
  smallestRefused: (projectId: string, runId: string) =>
    `${projectId}/${runId}/payload/smallest-refused.json`,
};

const refusalSchema = z.object({
  jobNumber: z.number().int(),
  requestBytes: z.number().int().positive(),
  chapters: z.number().int().nonnegative(),
  sent: z.boolean(),
});
export type PayloadRefusal = z.infer<typeof refusalSchema>;
const smallestSchema = z.object({ requestBytes: z.number().int().positive() });

/** Prefix of the submit failure's message; the collect activity does not rely on it (it reads the record). */
export const PAYLOAD_TOO_LARGE = "payload-too-large";

export class PayloadTooLargeError extends Error {
  override readonly name = "PayloadTooLargeError";
  constructor(refusal: PayloadRefusal) {
    super(
      `${PAYLOAD_TOO_LARGE}: the Speech service refuses a ${refusal.requestBytes}-byte request as too large` +
        (refusal.chapters > 1 ? "; its chapters are split into smaller jobs." : "."),
    );
  }
}

/** A 413, or a 400 whose code or message names the payload/request size. */
export function isPayloadTooLarge(error: unknown): boolean {
  if (!(error instanceof RestError) && !(error instanceof Error && "statusCode" in error)) return false;
  const e = error as Error & { statusCode?: number; code?: string; innerErrorCode?: string };
  if (e.statusCode === 413) return true;
  if (e.statusCode !== 400) return false;
  const text = `${e.code ?? ""} ${e.innerErrorCode ?? ""} ${e.message}`;
  return /payload|entity too large|request (body|size) |content length|too large|exceeds the maximum (allowed )?size/i.test(
    text,
  );
}

export function readRefusal(deps: PipelineDeps, ref: JobRef): Promise<PayloadRefusal | undefined> {
  return readJson(deps.work, payloadPaths.refusal(ref.projectId, ref.runId, ref.jobNumber), refusalSchema);
}

/** The smallest request the service refused in this run, in bytes. */
export async function smallestRefused(
  deps: PipelineDeps,
  projectId: string,
  runId: string,
): Promise<number | undefined> {
  return (await readJson(deps.work, payloadPaths.smallestRefused(projectId, runId), smallestSchema))
    ?.requestBytes;
}

/** Records a refused job (idempotent) and lowers the run's smallest refused size. */
export async function recordRefusal(deps: PipelineDeps, ref: JobRef, refusal: PayloadRefusal): Promise<void> {
  await writeJson(deps.work, payloadPaths.refusal(ref.projectId, ref.runId, ref.jobNumber), refusal);
  const known = await smallestRefused(deps, ref.projectId, ref.runId);
  if (known === undefined || refusal.requestBytes < known) {
    await writeJson(deps.work, payloadPaths.smallestRefused(ref.projectId, ref.runId), {
      requestBytes: refusal.requestBytes,
    });
  }
}

/** The payload limit to pack retried jobs with: the configured one, or half the smallest refused request. */
export async function effectivePayloadLimit(
  deps: PipelineDeps,
  projectId: string,
  runId: string,
  configured: number,
): Promise<number> {
  const refused = await smallestRefused(deps, projectId, runId);
  return refused === undefined ? configured : Math.max(1, Math.min(configured, Math.floor(refused / 2)));
}
