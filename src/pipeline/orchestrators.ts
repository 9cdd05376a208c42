import type { OrchestrationContext, Task } from "durable-functions";
import type { CollectInput } from "./collect.js";
import type { CheckResult, SubmitResult, SynthesisOptions } from "./jobs.js";
import type { ManifestTotals, WriteManifestInput } from "./manifest.js";
import {
  BATCH_JOB_ORCHESTRATOR,
  CANCEL_EVENT,
  CHECK_JOB_ACTIVITY,
  COLLECT_JOB_ACTIVITY,
  DELETE_JOB_ACTIVITY,
  jobInstanceId,
  PLAN_PROJECT_ACTIVITY,
  PLAN_RETRIES_ACTIVITY,
  REALTIME_GROUP_ORCHESTRATOR,
  SUBMIT_JOB_ACTIVITY,
  SYNTHESIZE_REALTIME_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
} from "./names.js";
import type { StartRequest } from "./options.js";
import type { PlanResult } from "./plan.js";
import { expectedJobMs, jobDeadlineMs, pollDelayMs } from "./polling.js";
import { emptyChapterCounters, emptyJobCounters, type Progress, withPending } from "./progress.js";
import type { RealtimeChapterInput } from "./realtime.js";
import type { PlanRetriesInput } from "./retries.js";
import { audioPaths, type JobSummary, type RunTuning } from "./runState.js";
import { emptyTally, type JobTally } from "./tally.js";

/*
 * Orchestrators only sequence work: every decision with data behind it is made in an activity or a pure
 * function. They are deterministic (time from currentUtcDateTime, no I/O) and carry counts and names,
 * never chapter text. Sub-orchestrators catch their errors and return them (Task.all/any fail fast).
 */

type Generator_<T> = Generator<Task, T, unknown>;

/** Attempts of an idempotent activity before its failure counts (storage hiccups, throttling beyond the client's retries). */
const ACTIVITY_ATTEMPTS = 4;
const FIRST_RETRY_DELAY_MS = 5_000;

/**
 * Calls an idempotent activity, retrying failures after durable timers (5 s, 10 s, 20 s). Written out with
 * plain activity calls and timers rather than `callActivityWithRetry`: the SDK and the extension number
 * retry timers on their own, which has been seen to disagree when retries interleave with `Task.any`
 * windows and new tasks (durable-js #629, durable-python #603); plain tasks and timers always agree.
 */
function* callWithRetry<T>(context: OrchestrationContext, name: string, input: unknown): Generator_<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (yield context.df.callActivity(name, input)) as T;
    } catch (error) {
      if (attempt >= ACTIVITY_ATTEMPTS) throw error;
      const delay = FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1);
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delay));
    }
  }
}

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // Durable wraps activity errors with a prefix and stack details; keep the first useful line.
  return (
    text
      .replace(/^Activity function '[^']+' failed:\s*/, "")
      .split("\n")[0]
      ?.trim() || "unknown error"
  );
}

export interface ProjectInput {
  projectId: string;
  runId: string;
  request: StartRequest;
}

export interface JobInput {
  projectId: string;
  runId: string;
  instanceId: string;
  job: JobSummary;
  options: SynthesisOptions;
  tuning: RunTuning;
}

interface BatchJobState extends JobInput {
  synthesisId?: string;
  submittedAt?: string;
  polls?: number;
  attempt?: number;
}

export interface JobResult {
  jobNumber: number;
  mode: "batch" | "realtime";
  /** The batch job failed as a whole (service Failed, deadline, vanished, or could not be submitted). */
  jobFailed: boolean;
  error?: string;
  tally: JobTally;
  /** Requests this job made besides those counted in the tally (submit, polls, delete). */
  requests: number;
  cancelled?: boolean;
}

/** Polls per execution before the monitor continues as new, which keeps its history short. */
const DEFAULT_POLLS_PER_EXECUTION = 40;
/** Consecutive failed status checks after which the job is treated as lost. */
const MAX_CHECK_FAILURES = 6;

/** One batch job: submit under a deterministic id, poll on durable timers, collect, delete. */
export function* batchJobOrchestrator(context: OrchestrationContext): Generator_<JobResult | undefined> {
  const state = context.df.getInput() as BatchJobState;
  const { job, tuning } = state;
  const attempt = state.attempt ?? 1;
  const ref = { projectId: state.projectId, runId: state.runId, jobNumber: job.jobNumber };
  let requests = 0;
  let synthesisId = state.synthesisId;
  let jobError: string | undefined;
  try {
    if (!synthesisId) {
      const submitted = yield* callWithRetry<SubmitResult>(context, SUBMIT_JOB_ACTIVITY, {
        ...ref,
        attempt,
        options: state.options,
      });
      requests++;
      if (!submitted.submitted) {
        return {
          jobNumber: job.jobNumber,
          mode: "batch",
          jobFailed: false,
          cancelled: true,
          tally: emptyTally(),
          requests,
        };
      }
      synthesisId = submitted.synthesisId;
    }
    const submittedAt = state.submittedAt ? new Date(state.submittedAt) : context.df.currentUtcDateTime;
    const expectedMs = expectedJobMs(job.characters, tuning);
    const deadline = submittedAt.getTime() + jobDeadlineMs(expectedMs, tuning);
    let polls = state.polls ?? 0;
    let checkFailures = 0;
    for (let i = 0; ; i++) {
      const now = context.df.currentUtcDateTime.getTime();
      if (now >= deadline) {
        jobError = "The batch job did not finish before its deadline.";
        break;
      }
      const delay = Math.min(pollDelayMs(expectedMs, now - submittedAt.getTime(), tuning), deadline - now);
      yield context.df.createTimer(new Date(now + delay));
      polls++;
      requests++;
      let check: CheckResult | undefined;
      try {
        check = (yield context.df.callActivity(CHECK_JOB_ACTIVITY, { synthesisId })) as CheckResult;
        checkFailures = 0;
      } catch {
        if (++checkFailures >= MAX_CHECK_FAILURES) {
          jobError = "The batch job's status could not be read.";
          break;
        }
      }
      if (check?.status === "Succeeded") break;
      if (check?.status === "Failed") {
        jobError = check.error ?? "The batch job failed.";
        break;
      }
      if (check?.status === "Missing") {
        jobError = "The batch job disappeared from the service.";
        break;
      }
      if (i + 1 >= (tuning.pollsPerExecution ?? DEFAULT_POLLS_PER_EXECUTION)) {
        context.df.continueAsNew({
          ...state,
          synthesisId,
          submittedAt: submittedAt.toISOString(),
          polls,
          attempt,
        });
        return undefined;
      }
    }
  } catch (error) {
    jobError = `The batch job could not be run: ${message(error)}`;
  }
  let tally = emptyTally();
  try {
    const collect: CollectInput = {
      ...ref,
      instanceId: state.instanceId,
      synthesisId: synthesisId ?? "",
      options: state.options,
      maxAttempts: tuning.maxChapterAttempts,
      ...(jobError ? { jobError } : {}),
    };
    tally = yield* callWithRetry<JobTally>(context, COLLECT_JOB_ACTIVITY, collect);
  } catch (error) {
    jobError = jobError ?? `The batch job's results could not be collected: ${message(error)}`;
  }
  if (synthesisId) {
    try {
      // Results are safe in storage (or the job is abandoned): the job can go.
      yield* callWithRetry<void>(context, DELETE_JOB_ACTIVITY, { ...ref, synthesisId });
      requests++;
    } catch {
      // The job's time-to-live removes it anyway.
    }
  }
  return {
    jobNumber: job.jobNumber,
    mode: "batch",
    jobFailed: jobError !== undefined,
    ...(jobError ? { error: jobError } : {}),
    tally,
    requests,
  };
}

function addTally(into: JobTally, more: JobTally): void {
  into.succeeded += more.succeeded;
  into.failed += more.failed;
  into.retry += more.retry;
  into.realtime += more.realtime;
  into.audioDurationMs += more.audioDurationMs;
  into.billableCharacters += more.billableCharacters;
  into.speechRequests += more.speechRequests;
}

/** Picks a finished task without yielding (a task completed earlier never re-signals a new Task.any). */
function* nextFinished<T extends Task>(context: OrchestrationContext, tasks: T[]): Generator_<T> {
  const done = tasks.find((t) => t.isCompleted || t.isFaulted);
  if (done) return done;
  return (yield context.df.Task.any(tasks)) as T;
}

/**
 * A group of chapters synthesized one request-chain each through the realtime endpoint, a few at a time.
 * A chapter whose activity fails (storage, not Speech: Speech failures are recorded as outcomes) goes back
 * in the queue, up to {@link ACTIVITY_ATTEMPTS} times.
 */
export function* realtimeGroupOrchestrator(context: OrchestrationContext): Generator_<JobResult> {
  const input = context.df.getInput() as JobInput;
  const tally = emptyTally();
  const queue = Array.from({ length: input.job.chapters }, (_, position) => position);
  const failures = new Map<number, number>();
  const inFlight = new Map<Task, number>();
  while (queue.length > 0 || inFlight.size > 0) {
    while (inFlight.size < input.tuning.realtimeConcurrency && queue.length > 0) {
      const position = queue.shift() as number;
      const chapter: RealtimeChapterInput = {
        projectId: input.projectId,
        runId: input.runId,
        jobNumber: input.job.jobNumber,
        instanceId: input.instanceId,
        position,
        options: input.options,
      };
      inFlight.set(context.df.callActivity(SYNTHESIZE_REALTIME_ACTIVITY, chapter), position);
    }
    const done = yield* nextFinished(context, [...inFlight.keys()]);
    const position = inFlight.get(done) as number;
    inFlight.delete(done);
    if (done.isCompleted) {
      addTally(tally, done.result as JobTally);
      continue;
    }
    const failed = (failures.get(position) ?? 0) + 1;
    failures.set(position, failed);
    if (failed < ACTIVITY_ATTEMPTS) queue.push(position);
    else tally.failed++; // the final manifest write marks the chapter failed
  }
  return { jobNumber: input.job.jobNumber, mode: "realtime", jobFailed: false, tally, requests: 0 };
}

/**
 * How long a cancelled run waits for the cancel endpoint to terminate it; only a run whose terminate never
 * came (the endpoint failed midway) ends on its own, as Completed with phase `cancelled`.
 */
const CANCELLED_RUN_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * A project run: plan, run jobs with at most `maxConcurrentJobs` in flight (retries and realtime
 * fallbacks join the queue as jobs finish), keep the manifest and progress current, return the totals.
 */
export function* projectOrchestrator(context: OrchestrationContext): Generator_<ManifestTotals | undefined> {
  const input = context.df.getInput() as ProjectInput;
  const instanceId = context.df.instanceId;
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const progress: Progress = {
    phase: "planning",
    runId: input.runId,
    chapters: emptyChapterCounters(),
    jobs: emptyJobCounters(),
    realtime: { running: 0, completed: 0 },
    manifestBlob: audioPaths.manifest(input.projectId),
    startedAt,
    updatedAt: startedAt,
  };
  const publish = () => {
    progress.chapters = withPending(progress.chapters);
    progress.updatedAt = context.df.currentUtcDateTime.toISOString();
    context.df.setCustomStatus(progress);
  };
  publish();
  // One waiter for the whole run, created at the same point on every replay and offered to every job
  // window (an event raised earlier is held by the SDK until the waiter is first yielded).
  const cancelRequested = context.df.waitForExternalEvent(CANCEL_EVENT);
  /**
   * A terminated run never publishes again, so the cancel endpoint raises the event first: the last
   * customStatus then says what the GET status says (nothing runs), and the endpoint terminates the run.
   */
  function* stopCancelled(): Generator_<undefined> {
    progress.phase = "cancelled";
    progress.jobs.running = 0;
    progress.realtime.running = 0;
    publish();
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + CANCELLED_RUN_GRACE_MS));
    return undefined;
  }

  const plan = yield* callWithRetry<PlanResult>(context, PLAN_PROJECT_ACTIVITY, {
    projectId: input.projectId,
    runId: input.runId,
    instanceId,
    request: input.request,
  });
  progress.mode = plan.options.mode;
  progress.chapters.total = plan.counts.total;
  progress.chapters.rejected = plan.counts.rejected;
  progress.chapters.unchanged = plan.counts.unchanged;
  progress.chapters.succeeded = plan.counts.succeeded ?? 0;
  progress.chapters.failed = plan.counts.failed ?? 0;
  progress.phase = "synthesizing";
  publish();

  const options: SynthesisOptions = {
    voice: plan.options.voice,
    outputFormat: plan.options.outputFormat,
    wordBoundaries: plan.options.wordBoundaries,
  };
  const counters = { batchJobs: 0, speechRequests: 0, billableCharacters: 0 };
  const manifest = (jobNumbers: number[], completedAt?: string) => {
    const write: WriteManifestInput = {
      projectId: input.projectId,
      runId: input.runId,
      jobNumbers,
      startedAt,
      ...counters,
      ...(completedAt ? { completedAt } : {}),
    };
    return callWithRetry<ManifestTotals>(context, WRITE_MANIFEST_ACTIVITY, write);
  };
  yield* manifest([]);

  const queue: JobSummary[] = [...plan.jobs];
  let nextJobNumber = plan.jobs.reduce((n, j) => Math.max(n, j.jobNumber), 0) + 1;
  const inFlight = new Map<Task, JobSummary>();
  while (queue.length > 0 || inFlight.size > 0) {
    if (cancelRequested.isCompleted) return yield* stopCancelled();
    while (inFlight.size < plan.options.maxConcurrentJobs && queue.length > 0) {
      const job = queue.shift() as JobSummary;
      const jobInput: JobInput = {
        projectId: input.projectId,
        runId: input.runId,
        instanceId,
        job,
        options,
        tuning: plan.tuning,
      };
      const name = job.mode === "batch" ? BATCH_JOB_ORCHESTRATOR : REALTIME_GROUP_ORCHESTRATOR;
      inFlight.set(
        context.df.callSubOrchestrator(name, jobInput, jobInstanceId(instanceId, input.runId, job.jobNumber)),
        job,
      );
      if (job.mode === "batch") {
        progress.jobs.submitted++;
        progress.jobs.running++;
      } else {
        progress.realtime.running++;
      }
    }
    publish();
    const done = yield* nextFinished(context, [...inFlight.keys(), cancelRequested]);
    if (done === cancelRequested) return yield* stopCancelled();
    const job = inFlight.get(done) as JobSummary;
    inFlight.delete(done);
    const completed = done.isCompleted ? (done.result as JobResult | undefined) : undefined;
    // A child that failed outright (not expected: children catch their errors) leaves its chapters to the
    // final manifest write, which marks whatever is still pending as failed.
    const result: JobResult = completed?.tally
      ? completed
      : {
          jobNumber: job.jobNumber,
          mode: job.mode,
          jobFailed: true,
          error: "sub-orchestration failed",
          tally: emptyTally(),
          requests: 0,
        };
    if (job.mode === "batch") {
      progress.jobs.running--;
      if (result.jobFailed) progress.jobs.failed++;
      else progress.jobs.succeeded++;
      if (!result.cancelled) counters.batchJobs++;
    } else {
      progress.realtime.running--;
      progress.realtime.completed++;
    }
    progress.chapters.succeeded += result.tally.succeeded;
    progress.chapters.failed += result.tally.failed;
    counters.speechRequests += result.requests + result.tally.speechRequests;
    counters.billableCharacters += result.tally.billableCharacters;
    if (result.tally.retry + result.tally.realtime > 0) {
      const retryInput: PlanRetriesInput = {
        projectId: input.projectId,
        runId: input.runId,
        jobNumber: job.jobNumber,
        nextJobNumber,
        options: plan.options,
        maxPayloadBytes: plan.tuning.maxPayloadBytes,
        jobFailed: result.jobFailed,
      };
      const more = yield* callWithRetry<JobSummary[]>(context, PLAN_RETRIES_ACTIVITY, retryInput);
      nextJobNumber += more.length;
      queue.push(...more);
    }
    yield* manifest([job.jobNumber]);
    publish();
  }

  if (cancelRequested.isCompleted) return yield* stopCancelled();
  progress.phase = "finalizing";
  publish();
  const totals = yield* manifest([], context.df.currentUtcDateTime.toISOString());
  progress.chapters.succeeded = totals.succeeded;
  progress.chapters.failed = totals.failed;
  progress.phase = "completed";
  publish();
  return totals;
}
