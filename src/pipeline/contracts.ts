import { z } from "zod";
import { jobResultSchema } from "./jobResult.js";
import type { CheckResult, SubmitResult } from "./jobs.js";
import type { ManifestTotals } from "./manifest.js";
import {
  BATCH_JOB_ORCHESTRATOR,
  CHECK_JOB_ACTIVITY,
  COLLECT_JOB_ACTIVITY,
  COLLECT_JOB_ORCHESTRATOR,
  DELETE_JOB_ACTIVITY,
  PLAN_PROJECT_ACTIVITY,
  PLAN_RETRIES_ACTIVITY,
  PROJECT_ORCHESTRATOR,
  REALTIME_GROUP_ORCHESTRATOR,
  REALTIME_LANE_ORCHESTRATOR,
  REPORT_JOB_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  SYNTHESIZE_REALTIME_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
} from "./names.js";
import { projectIdSchema, startRequestSchema } from "./options.js";
import type { PlanResult } from "./planning/planRun.js";
import { type JobSummary, jobSummarySchema, runTuningSchema } from "./planning/schema.js";
import { serviceRateSchema } from "./runState.js";
import type { JobTally } from "./tally.js";

/**
 * Activity inputs: one definition each. The schema parses the input at the activity boundary (it comes from
 * orchestration history, which outlives deployments); the type is the schema's, so a field cannot be added to
 * one and silently stripped by the other. The orchestrators' calls are checked against these types
 * (`ActivityInput`, test/pipeline/contracts.test.ts).
 */

/** Voice, format and boundaries of a run: small, so they travel in activity inputs. */
export const synthesisOptionsSchema = z.object({
  voice: z.string().min(1),
  outputFormat: z.string().min(1),
  wordBoundaries: z.boolean(),
});
export type SynthesisOptions = z.infer<typeof synthesisOptionsSchema>;

const runId = z.string().min(1);
const instanceId = z.string().min(1);

/** One job of one run. */
export const jobRefSchema = z.object({
  projectId: projectIdSchema,
  runId,
  jobNumber: z.number().int().positive(),
});
export type JobRef = z.infer<typeof jobRefSchema>;

/** The project run's orchestration input (written by the start handler; names and counts only). */
export const projectInputSchema = z.object({
  projectId: projectIdSchema,
  runId,
  /** The start body without `chapters` (orchestration inputs carry no chapter lists)… */
  request: startRequestSchema,
  /** …which the start handler stored here (work container), if it had them. */
  chaptersBlob: z.string().min(1).optional(),
});
export type ProjectInput = z.infer<typeof projectInputSchema>;

export const planInputSchema = projectInputSchema.extend({ instanceId });
export type PlanInput = z.infer<typeof planInputSchema>;

export const submitInputSchema = jobRefSchema.extend({
  attempt: z.number().int().nonnegative(),
  options: synthesisOptionsSchema,
});
export type SubmitInput = z.infer<typeof submitInputSchema>;

export const checkInputSchema = z.object({ synthesisId: z.string().min(1) });
export type CheckInput = z.infer<typeof checkInputSchema>;

export const collectInputSchema = jobRefSchema.extend({
  instanceId,
  /** Empty when the job was never created (its chapters are all retried). */
  synthesisId: z.string(),
  options: synthesisOptionsSchema,
  maxAttempts: z.number().int().positive(),
  /** Set when the whole job failed, timed out or vanished: every chapter is retried. */
  jobError: z.string().optional(),
  /** The service's throughput as the job's lane measured it: recorded as later runs' prior. */
  rate: serviceRateSchema.optional(),
  /** The run's pilot job: its rate is recorded as the pilots' prior, apart from full jobs'. */
  pilot: z.literal(true).optional(),
  /**
   * Store the job's first chapter only, and nothing else (no outcome for the others, no throughput record):
   * the run's first video message goes out before the next job's submit shares the worker with it. The
   * job's collection proper follows and finds that chapter done.
   */
  firstChapterOnly: z.literal(true).optional(),
});
export type CollectInput = z.infer<typeof collectInputSchema>;

export const deleteInputSchema = z.object({
  projectId: projectIdSchema,
  runId,
  synthesisId: z.string().min(1),
});
export type DeleteInput = z.infer<typeof deleteInputSchema>;

export const planRetriesInputSchema = jobRefSchema.extend({
  /** First free job number; the orchestrator owns numbering so replays give the same numbers. */
  nextJobNumber: z.number().int().positive(),
  options: synthesisOptionsSchema.extend({ maxChaptersPerJob: z.number().int().positive() }),
  maxPayloadBytes: z.number().int().positive(),
  /** The job failed as a whole (service Failed, deadline, lost). */
  jobFailed: z.boolean().optional(),
});
export type PlanRetriesInput = z.infer<typeof planRetriesInputSchema>;

export const realtimeChapterInputSchema = jobRefSchema.extend({
  instanceId,
  /** Position of the chapter in the group's job list. */
  position: z.number().int().nonnegative(),
  options: synthesisOptionsSchema,
});
export type RealtimeChapterInput = z.infer<typeof realtimeChapterInputSchema>;

export const reportJobInputSchema = z.object({
  /** The project run's instance id (the same for every run of a project)… */
  instanceId,
  /** …and the run, so a late report from an earlier run is told apart. */
  runId,
  result: jobResultSchema,
});
export type ReportJobInput = z.infer<typeof reportJobInputSchema>;

export const writeManifestInputSchema = z.object({
  projectId: projectIdSchema,
  runId,
  /** Finished jobs to merge (already merged ones are skipped). */
  jobNumbers: z.array(z.number().int().positive()),
  /** Orchestration time; the manifest records the plan's wall-clock creation time instead. */
  startedAt: z.string(),
  /** Set on the final write: anything still pending is marked failed; the manifest records the wall-clock time. */
  completedAt: z.string().optional(),
  /** Run counters kept by the orchestrator. */
  batchJobs: z.number().int().nonnegative(),
  speechRequests: z.number().int().nonnegative(),
  billableCharacters: z.number().nonnegative(),
});
export type WriteManifestInput = z.infer<typeof writeManifestInputSchema>;

/** Each activity's input schema, by its Durable name (names.ts). */
export const activityInputs = {
  [PLAN_PROJECT_ACTIVITY]: planInputSchema,
  [SUBMIT_JOB_ACTIVITY]: submitInputSchema,
  [CHECK_JOB_ACTIVITY]: checkInputSchema,
  [COLLECT_JOB_ACTIVITY]: collectInputSchema,
  [DELETE_JOB_ACTIVITY]: deleteInputSchema,
  [PLAN_RETRIES_ACTIVITY]: planRetriesInputSchema,
  [SYNTHESIZE_REALTIME_ACTIVITY]: realtimeChapterInputSchema,
  [WRITE_MANIFEST_ACTIVITY]: writeManifestInputSchema,
  [REPORT_JOB_ACTIVITY]: reportJobInputSchema,
};
export type ActivityName = keyof typeof activityInputs;
export type ActivityInput<N extends ActivityName> = z.infer<(typeof activityInputs)[N]>;

/*
 * Orchestration inputs: what one orchestrator starts another with (and the start handler the project run).
 * Like activity inputs they come back from history, written by whichever deployment started the instance:
 * each orchestrator parses its input with its schema (`orchestratorInput`), and starts others only through
 * `startOrchestrator` (orchestrators.ts), whose input type follows the name.
 */

/** A job of a lane, for its batch job or realtime group orchestrator. */
export const jobInputSchema = z.object({
  projectId: projectIdSchema,
  runId,
  /** The project run's instance id (outputs and messages name it). */
  instanceId,
  job: jobSummarySchema,
  options: synthesisOptionsSchema,
  tuning: runTuningSchema,
  /** The jobs that follow this one in its lane, in order: this job starts the next when the service is done. */
  next: z.array(jobSummarySchema).optional(),
  /** Service throughput measured on the lane's finished jobs, carried forward (deterministic, no I/O). */
  rate: serviceRateSchema.optional(),
});
export type JobInput = z.infer<typeof jobInputSchema>;

/**
 * The batch job orchestrator's input: a job, plus its polling state when it continues as new or when the
 * run's first-wave probe already submitted it.
 */
export const batchJobStateSchema = jobInputSchema.extend({
  synthesisId: z.string().min(1).optional(),
  submittedAt: z.string().optional(),
  polls: z.number().int().nonnegative().optional(),
  attempt: z.number().int().positive().optional(),
  /** Speech requests made so far (submit and polls), kept across continueAsNew. */
  requests: z.number().int().nonnegative().optional(),
  /** Elapsed since submission at the last poll that saw the job unfinished. */
  unfinishedMs: z.number().nonnegative().optional(),
  /** How long its submit took in the orchestration's time (the service created the job within it). */
  submitMs: z.number().nonnegative().optional(),
  /** The run's first-wave probe already saw this job succeed: collect it and go on. */
  serviceDone: z.boolean().optional(),
});
export type BatchJobState = z.infer<typeof batchJobStateSchema>;

/** The collector's input: the collect activity's, plus what it needs to report the whole job to the run. */
export const collectJobInputSchema = collectInputSchema.extend({
  /** Requests the job made before it was collected (submit, polls). */
  jobRequests: z.number().int().nonnegative().optional(),
});
export type CollectJobInput = z.infer<typeof collectJobInputSchema>;

/** One realtime lane: some positions of a realtime group's job list, one after another. */
export const realtimeLaneInputSchema = jobRefSchema.extend({
  instanceId,
  options: synthesisOptionsSchema,
  positions: z.array(z.number().int().nonnegative()),
});
export type RealtimeLaneInput = z.infer<typeof realtimeLaneInputSchema>;

/** Each orchestrator's input schema, by its Durable name (names.ts). */
export const orchestratorInputs = {
  [PROJECT_ORCHESTRATOR]: projectInputSchema,
  [BATCH_JOB_ORCHESTRATOR]: batchJobStateSchema,
  [COLLECT_JOB_ORCHESTRATOR]: collectJobInputSchema,
  [REALTIME_GROUP_ORCHESTRATOR]: jobInputSchema,
  [REALTIME_LANE_ORCHESTRATOR]: realtimeLaneInputSchema,
};
export type OrchestratorName = keyof typeof orchestratorInputs;
export type OrchestratorInput<N extends OrchestratorName> = z.infer<(typeof orchestratorInputs)[N]>;

/** What each activity returns to its orchestrator (a function of the name, like its input). */
export interface ActivityOutputs {
  [PLAN_PROJECT_ACTIVITY]: PlanResult;
  [SUBMIT_JOB_ACTIVITY]: SubmitResult;
  [CHECK_JOB_ACTIVITY]: CheckResult;
  [COLLECT_JOB_ACTIVITY]: JobTally;
  // biome-ignore lint/suspicious/noConfusingVoidType: the use case is Promise<void>; the activity returns nothing
  [DELETE_JOB_ACTIVITY]: void;
  [PLAN_RETRIES_ACTIVITY]: JobSummary[];
  [SYNTHESIZE_REALTIME_ACTIVITY]: JobTally;
  [WRITE_MANIFEST_ACTIVITY]: ManifestTotals;
  // biome-ignore lint/suspicious/noConfusingVoidType: the use case is Promise<void>; the activity returns nothing
  [REPORT_JOB_ACTIVITY]: void;
}
export type ActivityOutput<N extends ActivityName> = ActivityOutputs[N];
