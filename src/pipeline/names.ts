/**
 * Names of the Durable functions: registered in `functions/`, called from orchestrators in `src/pipeline/`.
 * Changing one orphans running instances whose history refers to the old name.
 */
export const PROJECT_ORCHESTRATOR = "ProjectOrchestrator";
export const BATCH_JOB_ORCHESTRATOR = "BatchJobOrchestrator";
export const REALTIME_GROUP_ORCHESTRATOR = "RealtimeGroupOrchestrator";
export const COLLECT_JOB_ORCHESTRATOR = "CollectBatchJobOrchestrator";
export const REALTIME_LANE_ORCHESTRATOR = "RealtimeLaneOrchestrator";

export const PLAN_PROJECT_ACTIVITY = "PlanProject";
export const SUBMIT_JOB_ACTIVITY = "SubmitBatchJob";
export const CHECK_JOB_ACTIVITY = "CheckBatchJob";
export const COLLECT_JOB_ACTIVITY = "CollectBatchJob";
export const DELETE_JOB_ACTIVITY = "DeleteBatchJob";
export const PLAN_RETRIES_ACTIVITY = "PlanRetries";
export const SYNTHESIZE_REALTIME_ACTIVITY = "SynthesizeChapterRealtime";
export const WRITE_MANIFEST_ACTIVITY = "WriteManifest";
export const REPORT_JOB_ACTIVITY = "ReportJobFinished";

/** External event the cancel endpoint raises to a project run before terminating it. */
export const CANCEL_EVENT = "cancel";
/** External event a job raises to its project run when it is done (`ReportJobFinished`), carrying its result. */
export const JOB_FINISHED_EVENT = "job-finished";

/** Instance id of a project's orchestration (CONTRACT §3). */
export function projectInstanceId(projectId: string): string {
  return `tts-${projectId}`;
}

/** Explicit sub-orchestration ids, derived from the parent's so a replay re-attaches to the same child. */
export function jobInstanceId(parentInstanceId: string, runId: string, jobNumber: number): string {
  return `${parentInstanceId}:${runId}:job-${jobNumber}`;
}

/** The sub-orchestration that collects and deletes a batch job, beside the next job of its lane. */
export function collectInstanceId(jobInstance: string): string {
  return `${jobInstance}:collect`;
}

/** One of a realtime group's lanes (chapters one after another). */
export function realtimeLaneInstanceId(jobInstance: string, lane: number): string {
  return `${jobInstance}:lane-${lane}`;
}

/** Every instance a job may have started under its own id: what a cancel terminates. */
export function jobInstanceIds(
  parentInstanceId: string,
  runId: string,
  jobNumber: number,
  realtimeConcurrency: number,
): string[] {
  const job = jobInstanceId(parentInstanceId, runId, jobNumber);
  const lanes = Array.from({ length: realtimeConcurrency }, (_, lane) => realtimeLaneInstanceId(job, lane));
  return [job, collectInstanceId(job), ...lanes];
}
