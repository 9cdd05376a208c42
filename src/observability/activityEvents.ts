import type { JobRef } from "../pipeline/contracts.js";
import type { CheckResult, SubmitResult } from "../pipeline/jobs.js";
import type { ManifestTotals } from "../pipeline/manifest.js";
import type { PlanInput, PlanResult } from "../pipeline/planning/planRun.js";
import type { JobSummary } from "../pipeline/planning/schema.js";
import type { ChapterOutcome } from "../pipeline/runState.js";
import type { JobTally } from "../pipeline/tally.js";
import type { PipelineEvent } from "./events.js";

/**
 * What each activity's input and result say as events: one per job state change (submitted, polled,
 * collected, deleted, retried, realtime chapter) and the per-run metrics (planned, manifest).
 * Pure functions of the activity's own data, so they cost no I/O and are tested without a host.
 */

const ref = (r: JobRef) => ({ projectId: r.projectId, runId: r.runId, jobNumber: r.jobNumber });

export const activityEvents = {
  plan(input: Pick<PlanInput, "projectId" | "runId">, result: PlanResult): PipelineEvent {
    return {
      event: "run.planned",
      projectId: input.projectId,
      runId: input.runId,
      mode: result.options.mode,
      chapters: result.counts.total,
      pending: result.counts.pending,
      unchanged: result.counts.unchanged,
      rejected: result.counts.rejected,
      jobs: result.jobs.length,
      characters: result.counts.characters,
      billableCharacters: result.counts.billableCharacters,
      level: result.counts.rejected > 0 ? "warning" : "information",
    };
  },

  submit(input: JobRef & { attempt: number }, result: SubmitResult): PipelineEvent {
    if (!result.submitted) {
      return { event: "job.submit-skipped", ...ref(input), attempt: input.attempt, reason: result.reason };
    }
    return {
      event: "job.submitted",
      ...ref(input),
      synthesisId: result.synthesisId,
      attempt: input.attempt,
      status: result.status,
    };
  },

  /** The check activity knows only the synthesis id; the other dimensions join on it (job.submitted). */
  check(input: { synthesisId: string }, result: CheckResult): PipelineEvent {
    return {
      event: "job.polled",
      synthesisId: input.synthesisId,
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
      level: result.status === "Failed" || result.status === "Missing" ? "warning" : "information",
    };
  },

  collect(
    input: JobRef & { synthesisId: string; jobError?: string | undefined },
    tally: JobTally,
  ): PipelineEvent {
    return {
      event: "job.collected",
      ...ref(input),
      ...(input.synthesisId ? { synthesisId: input.synthesisId } : {}),
      succeeded: tally.succeeded,
      failed: tally.failed,
      retries: tally.retry,
      fallbacks: tally.realtime,
      billableCharacters: tally.billableCharacters,
      audioSeconds: Math.round(tally.audioDurationMs / 1000),
      speechRequests: tally.speechRequests,
      ...(input.jobError ? { jobError: input.jobError } : {}),
      level: tally.failed > 0 || input.jobError ? "warning" : "information",
    };
  },

  delete(input: { projectId: string; runId: string; synthesisId: string }): PipelineEvent {
    return {
      event: "job.deleted",
      projectId: input.projectId,
      runId: input.runId,
      synthesisId: input.synthesisId,
    };
  },

  planRetries(
    input: JobRef & { jobFailed?: boolean | undefined },
    jobs: readonly JobSummary[],
  ): PipelineEvent {
    return {
      event: "job.retries-planned",
      ...ref(input),
      jobFailed: input.jobFailed ?? false,
      newJobs: jobs.length,
      batchRetries: jobs.filter((j) => j.mode === "batch").reduce((n, j) => n + j.chapters, 0),
      realtimeFallbacks: jobs.filter((j) => j.mode === "realtime").reduce((n, j) => n + j.chapters, 0),
    };
  },

  /** One realtime chapter (realtime mode, or the fallback after batch attempts); a failure is final. */
  realtime(input: JobRef, outcome: ChapterOutcome): PipelineEvent[] {
    const fallback = (outcome.attempts ?? 1) > 1;
    const base = { ...ref(input), chapterId: outcome.chapterId, fallback };
    const events: PipelineEvent[] = [
      {
        event: "chapter.realtime",
        ...base,
        status: outcome.status,
        billableCharacters: outcome.billableCharacters ?? 0,
        speechRequests: outcome.speechRequests ?? 0,
        audioSeconds: Math.round((outcome.durationMs ?? 0) / 1000),
      },
    ];
    if (outcome.status === "failed") {
      events.push({ event: "chapter.failed", ...base, reason: outcome.reason ?? "unknown", level: "error" });
    }
    return events;
  },

  manifest(
    input: { projectId: string; runId: string; startedAt: string; completedAt?: string | undefined },
    totals: ManifestTotals,
  ): PipelineEvent {
    const serviceSeconds = input.completedAt
      ? Math.max(0, Math.round((Date.parse(input.completedAt) - Date.parse(input.startedAt)) / 1000))
      : null;
    return {
      event: "run.manifest",
      projectId: input.projectId,
      runId: input.runId,
      completed: Boolean(input.completedAt),
      chapters: totals.chapters,
      succeeded: totals.succeeded,
      failed: totals.failed,
      rejected: totals.rejected,
      unchanged: totals.unchanged,
      pending: totals.pending,
      batchJobs: totals.batchJobs,
      speechRequests: totals.speechRequests,
      billableCharacters: totals.billableCharacters,
      audioSeconds: Math.round(totals.audioDurationMs / 1000),
      serviceSeconds,
      level: input.completedAt && totals.failed > 0 ? "warning" : "information",
    };
  },
};
