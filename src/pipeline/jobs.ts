import { mapLimit } from "../concurrency.js";
import type { SynthesisStatus } from "../speech/models.js";
import { buildBatchRequest } from "./batchRequest.js";
import type { CheckInput, DeleteInput, JobRef, SubmitInput } from "./contracts.js";
import type { PipelineDeps } from "./deps.js";
import {
  isPayloadTooLarge,
  PayloadTooLargeError,
  readRefusal,
  recordRefusal,
  smallestRefused,
} from "./payloadLimit.js";
import type { JobSpec } from "./planning/schema.js";
import { isCancelled } from "./runGuard.js";
import { readSynthesisInput } from "./synthesisInput.js";

export async function readJobSpec(deps: PipelineDeps, ref: JobRef): Promise<JobSpec> {
  const job = await deps.runs.readJob(ref);
  if (!job) throw new Error(`Job ${ref.jobNumber} of run ${ref.runId} has no job list.`);
  return job;
}

export type SubmitResult =
  | { submitted: true; synthesisId: string; status: SynthesisStatus }
  | { submitted: false; reason: string };

/**
 * Submits a batch job under its deterministic id. A retried submit sends the same id and body, which the
 * service (and our client) treat as the same job, so nothing is paid twice.
 */
export async function submitJob(deps: PipelineDeps, input: SubmitInput): Promise<SubmitResult> {
  if (await isCancelled(deps, input.projectId, input.runId)) {
    return { submitted: false, reason: "cancelled" };
  }
  const speech = deps.speech();
  const synthesisId = speech.makeSynthesisId(input);
  // A submit redelivered after its job was collected and deleted must not create (and pay for) it again:
  // the job is done, and the status check reads the same marker (see checkJob).
  if (await deps.runs.wasDeleted(synthesisId)) return { submitted: true, synthesisId, status: "Succeeded" };
  // A job the service refused as too large (or at least as large as a refused one) is not sent (again): its
  // chapters are split into smaller jobs without spending attempts (payloadLimit.ts). A job already refused
  // needs none of its inputs read to say so.
  const refused = await readRefusal(deps, input);
  if (refused) throw new PayloadTooLargeError(refused);
  const job = await readJobSpec(deps, input);
  // Pronunciations (issue 14): planned SSML inputs, with the lexicon's read SAS signed now.
  const submission = `job${input.jobNumber}-attempt${input.attempt}`;
  const contents = await mapLimit(job.chapters, 16, (c) =>
    readSynthesisInput(deps, { projectId: input.projectId, runId: input.runId, submission }, c, "batch"),
  );
  const request = buildBatchRequest(
    job.inputKind ?? "PlainText",
    input.options.voice,
    input.options.outputFormat,
    input.options.wordBoundaries,
    contents,
  );
  const requestBytes = Buffer.byteLength(JSON.stringify(request), "utf8");
  const smallest = await smallestRefused(deps, input.projectId, input.runId);
  if (smallest !== undefined && requestBytes >= smallest && job.chapters.length > 1) {
    const refusal = { jobNumber: input.jobNumber, requestBytes, chapters: job.chapters.length, sent: false };
    await recordRefusal(deps, input, refusal);
    throw new PayloadTooLargeError(refusal);
  }
  // Recorded before the create so a cancel always finds (and deletes) a job that may exist.
  await deps.runs.markSubmitted(input, synthesisId, input.jobNumber);
  let state: Awaited<ReturnType<typeof speech.batch.createSynthesis>>;
  try {
    state = await speech.batch.createSynthesis(synthesisId, request);
  } catch (error) {
    if (!isPayloadTooLarge(error)) throw error;
    const refusal = { jobNumber: input.jobNumber, requestBytes, chapters: job.chapters.length, sent: true };
    await recordRefusal(deps, input, refusal);
    throw new PayloadTooLargeError(refusal);
  }
  // A cancel that landed while we were submitting may have missed this job: delete it ourselves.
  if (await isCancelled(deps, input.projectId, input.runId)) {
    await speech.batch.deleteSynthesis(synthesisId);
    return { submitted: false, reason: "cancelled" };
  }
  return { submitted: true, synthesisId, status: state.status };
}

/** `serviceMs`: a succeeded job's duration by the service's clock (speechPorts.ts), for the poll plan. */
export type CheckResult = { status: SynthesisStatus | "Missing"; error?: string; serviceMs?: number };

/**
 * The job's status. A job we deleted ourselves (after collecting it) reads as Succeeded, not Missing: a
 * check redelivered after the delete must not turn a finished job into a lost one (re-batched, paid twice).
 * A succeeded job's result URL is recorded for collect (which then downloads without reading the job
 * again); it is a SAS, so it goes to the work container, never into the check's result (orchestration
 * history, visible through the durable status API).
 */
export async function checkJob(deps: PipelineDeps, input: CheckInput): Promise<CheckResult> {
  const state = await deps.speech().batch.getSynthesis(input.synthesisId);
  if (!state) return { status: (await deps.runs.wasDeleted(input.synthesisId)) ? "Succeeded" : "Missing" };
  if (state.status === "Succeeded" && state.resultUrl) {
    await deps.runs.writeResultsLink({
      synthesisId: input.synthesisId,
      resultUrl: state.resultUrl,
      seenAt: deps.now().toISOString(),
    });
  }
  return {
    status: state.status,
    ...(state.error ? { error: state.error } : {}),
    ...(state.serviceMs !== undefined ? { serviceMs: state.serviceMs } : {}),
  };
}

/** The result URL the status check recorded for a succeeded job, if any. */
export async function readResultUrl(deps: PipelineDeps, synthesisId: string): Promise<string | undefined> {
  return (await deps.runs.readResultsLink(synthesisId))?.resultUrl;
}

/** Deletes a collected (or abandoned) job, leaving a marker first so no later copy of its submit re-creates it. */
export async function deleteJob(deps: PipelineDeps, input: DeleteInput): Promise<void> {
  await deps.runs.markDeleted({
    synthesisId: input.synthesisId,
    projectId: input.projectId,
    runId: input.runId,
    deletedAt: deps.now().toISOString(),
  });
  await deps.speech().batch.deleteSynthesis(input.synthesisId);
  await Promise.all([
    deps.runs.clearSubmitted(input, input.synthesisId),
    deps.runs.clearResultsLink(input.synthesisId),
  ]);
}
