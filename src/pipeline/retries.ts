import { mapLimit } from "../concurrency.js";
import type { PlanRetriesInput } from "./contracts.js";
import type { PipelineDeps } from "./deps.js";
import { readJobSpec } from "./jobs.js";
import { effectivePayloadLimit } from "./payloadLimit.js";
import { buildJobs } from "./planning/packing.js";
import { type JobChapter, type JobSpec, type JobSummary, summarizeJob } from "./planning/schema.js";

/**
 * Turns a finished job's `retry` chapters into new batch jobs and its `realtime` chapters into a realtime
 * group, numbered from `nextJobNumber`. Deterministic for the same outcomes, so a retried call rewrites
 * the same job lists.
 */
export async function planRetries(deps: PipelineDeps, input: PlanRetriesInput): Promise<JobSummary[]> {
  const job = await readJobSpec(deps, input);
  const outcomes = new Map((await deps.runs.listOutcomes(input)).map((o) => [o.chapterId, o]));
  const retry: JobChapter[] = [];
  const realtime: JobChapter[] = [];
  for (const chapter of job.chapters) {
    const outcome = outcomes.get(chapter.chapterId);
    if (outcome?.status === "retry") retry.push({ ...chapter, attempts: outcome.attempts });
    if (outcome?.status === "realtime") realtime.push({ ...chapter, attempts: outcome.attempts });
  }
  // After a whole-job failure the culprit is unknown: halve the job size so one poison chapter
  // takes fewer innocent ones down with it on each retry.
  const maxChaptersPerJob = input.jobFailed
    ? Math.max(1, Math.min(input.options.maxChaptersPerJob, Math.ceil(job.chapters.length / 2)))
    : input.options.maxChaptersPerJob;
  // After a "payload too large" refusal, jobs are packed under half the smallest refused request.
  const maxPayloadBytes = await effectivePayloadLimit(
    deps,
    input.projectId,
    input.runId,
    input.maxPayloadBytes,
  );
  const batchJobs = buildJobs(
    retry,
    "batch",
    { ...input.options, maxChaptersPerJob },
    maxPayloadBytes,
    input.nextJobNumber,
  );
  const realtimeJobs = buildJobs(
    realtime,
    "realtime",
    input.options,
    input.maxPayloadBytes,
    input.nextJobNumber + batchJobs.length,
  );
  const jobs: JobSpec[] = [...batchJobs, ...realtimeJobs];
  await mapLimit(jobs, 8, (j) => deps.runs.writeJob(input, j));
  return jobs.map(summarizeJob);
}
