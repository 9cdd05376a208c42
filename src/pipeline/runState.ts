import { z } from "zod";

/**
 * Working state of one run, kept in blobs of the work container so orchestration inputs and outputs
 * carry names and counts only. Layout under `{projectId}/{runId}/`:
 *   plan.json                        every chapter with its planned status (schema: planning/schema.ts)
 *   jobs/{jobNumber}.json            the chapters of one batch job or realtime group (planning/schema.ts)
 *   outcomes/{jobNumber}/{id}.json   what happened to one chapter in that job (written by activities)
 *   submitted/{synthesisId}.json     batch jobs that may exist at the service (removed once deleted)
 *   cancelled.json                   set by cancel: no new batch job is submitted after it
 *   announced/{id}.json              the chapter's video message was sent (not sent again after a crash)
 *   claims/{jobNumber}/{id}.json     created (create-only) before a chapter is paid for (realtime) or stored
 *   payload/refused-{jobNumber}.json a job the service refused as too large (src/pipeline/payloadLimit.ts)
 *   payload/smallest-refused.json    the smallest request the service refused in this run
 *   chapters.json                    the start body's `chapters` subset (the orchestration input names it)
 *   inputs/{id}.ssml                 planned SSML of a chapter that uses pronunciations (planning writes it)
 *   lexicon.pls                      the run's lexicon snapshot (batch jobs read it through a SAS)
 *   lexicon-sas/{submission}.json    the SAS window of one submission, fixed so a retry signs the same
 * and, outside any run (keyed by the globally unique synthesis id, which is all a status check carries):
 *   _batch-deleted/{synthesisId}.json  written before a batch job is deleted: a submit or status check
 *                                      redelivered afterwards knows the job was collected and removed
 *   _batch-results/{synthesisId}.json  the result URL (a SAS) a status check saw, read by collect
 *   _throughput.json                   the service's throughput as measuring runs saw it (brackets intersected)
 *   _throughput.pilot.json             the same for pilot jobs (a run's first few chapters, planning/pilot.ts)
 * Use cases reach these blobs through the `RunStore` port (runStore.ts), never by path.
 */

/**
 * Throughput of the service in characters per second from submission to completion (queueing included).
 * Each job brackets its own duration between the last poll that saw it unfinished and the poll that saw it
 * done; the brackets of a run's jobs intersect (src/pipeline/polling.ts).
 */
export const serviceRateSchema = z.object({
  /** The job took at most this long per character: throughput at least `low` chars/s. */
  low: z.number().positive(),
  /** ... and at least this long: throughput at most `high` chars/s (absent until a poll saw a job unfinished). */
  high: z.number().positive().optional(),
});
export type ServiceRate = z.infer<typeof serviceRateSchema>;

/**
 * `_throughput.json` in the work container: the rate runs measured (the intersection of the brackets measured
 * since `since`), the prior of later runs' first jobs. `projectId`, `runId`, `jobNumber`: the last contributor.
 */
export const throughputRecordSchema = z.object({
  rate: serviceRateSchema,
  /** When the last bracket was merged in. */
  measuredAt: z.string(),
  /** When the oldest bracket of the intersection was measured (absent in records written before merging). */
  since: z.string().optional(),
  projectId: z.string(),
  runId: z.string(),
  jobNumber: z.number().int().positive(),
});
export type ThroughputRecord = z.infer<typeof throughputRecordSchema>;

/**
 * Whose throughput a record holds: the run's regular jobs (`_throughput.json`), or its pilot jobs
 * (`_throughput.pilot.json`): a pilot of a few chapters uses little of the service's parallelism and waits
 * its start latency like any job, so its characters per second are not a full job's and are kept apart.
 */
export type ThroughputKind = "jobs" | "pilot";

export const jobModeSchema = z.enum(["batch", "realtime"]);
export type JobMode = z.infer<typeof jobModeSchema>;

export const outcomeStatusSchema = z.enum(["succeeded", "failed", "retry", "realtime"]);

export const chapterOutcomeSchema = z.object({
  chapterId: z.string(),
  jobNumber: z.number().int().positive(),
  /** `retry`: goes to a later batch job; `realtime`: goes to the realtime fallback. */
  status: outcomeStatusSchema,
  reason: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  mode: jobModeSchema,
  batchJobId: z.string().optional(),
  audioBlob: z.string().optional(),
  durationMs: z.number().optional(),
  sizeBytes: z.number().optional(),
  billableCharacters: z.number().optional(),
  speechRequests: z.number().optional(),
});
export type ChapterOutcome = z.infer<typeof chapterOutcomeSchema>;

export const runPaths = {
  root: (projectId: string, runId: string) => `${projectId}/${runId}/`,
  plan: (projectId: string, runId: string) => `${projectId}/${runId}/plan.json`,
  job: (projectId: string, runId: string, jobNumber: number) =>
    `${projectId}/${runId}/jobs/${jobNumber}.json`,
  outcomes: (projectId: string, runId: string, jobNumber: number) =>
    `${projectId}/${runId}/outcomes/${jobNumber}/`,
  outcome: (projectId: string, runId: string, jobNumber: number, chapterId: string) =>
    `${projectId}/${runId}/outcomes/${jobNumber}/${chapterId}.json`,
  submittedPrefix: (projectId: string, runId: string) => `${projectId}/${runId}/submitted/`,
  submitted: (projectId: string, runId: string, synthesisId: string) =>
    `${projectId}/${runId}/submitted/${synthesisId}.json`,
  cancelled: (projectId: string, runId: string) => `${projectId}/${runId}/cancelled.json`,
  /** A start body's `chapters` subset, kept out of the orchestration input (planning reads it). */
  requestedChapters: (projectId: string, runId: string) => `${projectId}/${runId}/chapters.json`,
  /** Planned SSML of a chapter that uses pronunciations (plan.json and jobs name it as the chapter's `inputBlob`). */
  plannedInput: (projectId: string, runId: string, chapterId: string) =>
    `${projectId}/${runId}/inputs/${encodeURIComponent(chapterId)}.ssml`,
  lexicon: (projectId: string, runId: string) => `${projectId}/${runId}/lexicon.pls`,
  lexiconWindow: (projectId: string, runId: string, submission: string) =>
    `${projectId}/${runId}/lexicon-sas/${encodeURIComponent(submission)}.json`,
  announced: (projectId: string, runId: string, chapterId: string) =>
    `${projectId}/${runId}/announced/${chapterId}.json`,
  chapterClaim: (projectId: string, runId: string, jobNumber: number, chapterId: string) =>
    `${projectId}/${runId}/claims/${jobNumber}/${chapterId}.json`,
  /** Project ids never start with `_` (PROJECT_ID_PATTERN), so this folder cannot meet a project's. */
  deletedJob: (synthesisId: string) => `_batch-deleted/${synthesisId}.json`,
  /** The result URL (a SAS) the status check saw: kept out of orchestration history, read by collect. */
  resultsLink: (synthesisId: string) => `_batch-results/${synthesisId}.json`,
  /** Throughput of the service measured by earlier runs (any project): the poll plan's prior for a first job. */
  throughput: (kind: ThroughputKind = "jobs") =>
    kind === "pilot" ? "_throughput.pilot.json" : "_throughput.json",
  refusal: (projectId: string, runId: string, jobNumber: number) =>
    `${projectId}/${runId}/payload/refused-${jobNumber}.json`,
  smallestRefused: (projectId: string, runId: string) =>
    `${projectId}/${runId}/payload/smallest-refused.json`,
};

/** `submitted/{synthesisId}.json`: a batch job that may exist at the service (cancel deletes it). */
export const submittedMarkerSchema = z.object({
  synthesisId: z.string(),
  jobNumber: z.number().int().positive(),
});
export type SubmittedMarker = z.infer<typeof submittedMarkerSchema>;

/** `chapters.json`: the chapters a start asked for. */
export const requestedChaptersSchema = z.object({ chapters: z.array(z.string().min(1)).min(1) });

/** `lexicon-sas/{submission}.json`: the validity of the lexicon SAS one submission (and its retries) signs. */
export const lexiconWindowSchema = z.object({ startsOn: z.string(), expiresOn: z.string() });

/** `cancelled.json`: when the run was cancelled (wall clock); older markers may carry nothing. */
export const cancelledMarkerSchema = z.object({ cancelledAt: z.string().optional() });

/** `_batch-deleted/{synthesisId}.json`: the batch job was collected and is (being) deleted at the service. */
export const deletedJobMarkerSchema = z.object({
  synthesisId: z.string(),
  projectId: z.string(),
  runId: z.string(),
  deletedAt: z.string(),
});
export type DeletedJobMarker = z.infer<typeof deletedJobMarkerSchema>;

/** `payload/refused-{jobNumber}.json`: a job the service refused (or would refuse) as too large. */
export const payloadRefusalSchema = z.object({
  jobNumber: z.number().int(),
  requestBytes: z.number().int().positive(),
  chapters: z.number().int().nonnegative(),
  sent: z.boolean(),
});
export type PayloadRefusal = z.infer<typeof payloadRefusalSchema>;
/** `payload/smallest-refused.json`. */
export const smallestRefusedSchema = z.object({ requestBytes: z.number().int().positive() });

export const resultsLinkSchema = z.object({
  synthesisId: z.string(),
  resultUrl: z.string().url(),
  seenAt: z.string(),
});
export type ResultsLink = z.infer<typeof resultsLinkSchema>;

/** Output blobs of a chapter in the audio container (CONTRACT §2). */
export const audioPaths = {
  audio: (projectId: string, chapterId: string, extension: string) =>
    `${projectId}/${chapterId}.${extension}`,
  words: (projectId: string, chapterId: string) => `${projectId}/${chapterId}.words.json`,
  srt: (projectId: string, chapterId: string) => `${projectId}/${chapterId}.srt`,
  manifest: (projectId: string) => `${projectId}/manifest.json`,
};
