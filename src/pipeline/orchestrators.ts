import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import {
  type ActivityInput,
  type ActivityName,
  type ActivityOutput,
  type BatchJobState,
  type CollectJobInput,
  type JobInput,
  type OrchestratorInput,
  type OrchestratorName,
  orchestratorInputs,
  type PlanRetriesInput,
  type RealtimeChapterInput,
  type RealtimeLaneInput,
  type SynthesisOptions,
  type WriteManifestInput,
} from "./contracts.js";
import { type JobResult, jobResultSchema } from "./jobResult.js";
import type { CheckResult, SubmitResult } from "./jobs.js";
import type { ManifestTotals } from "./manifest.js";
import {
  BATCH_JOB_ORCHESTRATOR,
  CANCEL_EVENT,
  CHECK_JOB_ACTIVITY,
  COLLECT_JOB_ACTIVITY,
  COLLECT_JOB_ORCHESTRATOR,
  collectInstanceId,
  DELETE_JOB_ACTIVITY,
  JOB_FINISHED_EVENT,
  jobInstanceId,
  PLAN_PROJECT_ACTIVITY,
  PLAN_RETRIES_ACTIVITY,
  PROJECT_ORCHESTRATOR,
  REALTIME_GROUP_ORCHESTRATOR,
  REALTIME_LANE_ORCHESTRATOR,
  REPORT_JOB_ACTIVITY,
  realtimeLaneInstanceId,
  SUBMIT_JOB_ACTIVITY,
  SYNTHESIZE_REALTIME_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
} from "./names.js";
import type { JobSummary, RunTuning } from "./planning/schema.js";
import {
  endBracket,
  expectedJobMs,
  jobDeadlineMs,
  learnRate,
  nextPollDelayMs,
  type ServiceRate,
} from "./polling.js";
import { emptyChapterCounters, emptyJobCounters, type Progress, withPending } from "./runProgress.js";
import { audioPaths } from "./runState.js";
import { addTally, emptyTally, type JobTally } from "./tally.js";

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
 * Schedules an activity with exactly the input its contract defines (contracts.ts): the activity parses it with
 * the same schema, so a field the orchestrator sends and the schema lacks cannot compile (and would be stripped).
 */
export function scheduleActivity<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  input: ActivityInput<N>,
): Task {
  return context.df.callActivity(name, input);
}

/**
 * Starts a sub-orchestration with exactly the input its contract defines (contracts.ts `orchestratorInputs`),
 * which the sub-orchestrator parses with the same schema.
 */
export function startOrchestrator<N extends OrchestratorName>(
  context: OrchestrationContext,
  name: N,
  input: OrchestratorInput<N>,
  instanceId: string,
): Task {
  return context.df.callSubOrchestrator(name, input, instanceId);
}

/**
 * An orchestrator's own input, parsed with its contract: it comes from history, written by whichever
 * deployment started the instance, so a malformed one fails here, named, instead of deep in a job.
 */
function inputOf<N extends OrchestratorName>(context: OrchestrationContext, name: N): OrchestratorInput<N> {
  return orchestratorInputs[name].parse(context.df.getInput()) as OrchestratorInput<N>;
}

/**
 * Calls an idempotent activity, retrying failures after durable timers (5 s, 10 s, 20 s). Written out with
 * plain activity calls and timers rather than `callActivityWithRetry`: the SDK and the extension number
 * retry timers on their own, which has been seen to disagree when retries interleave with `Task.any`
 * windows and new tasks (durable-js #629, durable-python #603); plain tasks and timers always agree.
 */
function* callWithRetry<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  input: ActivityInput<N>,
): Generator_<ActivityOutput<N>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (yield scheduleActivity(context, name, input)) as ActivityOutput<N>;
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

export type { JobResult };

/** A lane's results: the job a sub-orchestration ran, then those of the jobs it handed on to. */
export type LaneResult = JobResult[];

/** What collecting a finished batch job (and deleting it at the service) gives back. */
export interface CollectJobResult {
  tally: JobTally;
  /** Requests besides the tally's (the delete). */
  requests: number;
  error?: string;
}

/**
 * Starts the collector of a job the service is done with (or that could not be run), as the child of the job's
 * instance. A pilot's rate goes with `pilot`, so it is recorded as the pilots' prior (planning/pilot.ts).
 */
function startCollect(
  context: OrchestrationContext,
  jobInstance: string,
  input: Omit<CollectJobInput, "jobError" | "rate" | "pilot">,
  end: { jobError: string | undefined; rate: ServiceRate | undefined; pilot: boolean },
): Task {
  const collectInput: CollectJobInput = {
    ...input,
    ...(end.jobError ? { jobError: end.jobError } : {}),
    ...(end.pilot ? { pilot: true as const } : {}),
    ...(end.rate ? { rate: end.rate } : {}),
  };
  return startOrchestrator(context, COLLECT_JOB_ORCHESTRATOR, collectInput, collectInstanceId(jobInstance));
}

/** A batch job's result, the same whether its collector reports it or its lane returns it. */
function batchJobResult(
  jobNumber: number,
  jobError: string | undefined,
  jobRequests: number,
  collected: CollectJobResult,
): JobResult {
  const error = jobError ?? collected.error;
  return {
    jobNumber,
    mode: "batch",
    jobFailed: error !== undefined,
    ...(error ? { error } : {}),
    tally: collected.tally,
    requests: jobRequests + collected.requests,
  };
}

/**
 * Tells the project run a job is done (`ReportJobFinished` raises `job-finished` to it), so its progress and
 * manifest move per job while the lanes go on. A report that cannot be sent is not fatal: the run also sees
 * the job when its lane ends.
 */
function* reportFinished(
  context: OrchestrationContext,
  runId: string,
  instanceId: string,
  result: JobResult,
) {
  try {
    yield* callWithRetry(context, REPORT_JOB_ACTIVITY, {
      instanceId,
      runId,
      result,
    });
  } catch {
    // Seen through the lane's result instead.
  }
}

/** Polls per execution before the monitor continues as new, which keeps its history short. */
const DEFAULT_POLLS_PER_EXECUTION = 40;
/** Consecutive failed status checks after which the job is treated as lost. */
const MAX_CHECK_FAILURES = 6;

function orchestratorFor(
  job: JobSummary,
): typeof BATCH_JOB_ORCHESTRATOR | typeof REALTIME_GROUP_ORCHESTRATOR {
  return job.mode === "batch" ? BATCH_JOB_ORCHESTRATOR : REALTIME_GROUP_ORCHESTRATOR;
}

/** The results of jobs whose sub-orchestration failed outright: their chapters stay pending (the final write fails them). */
function lostResults(jobs: readonly JobSummary[]): LaneResult {
  return jobs.map(lostResult);
}

function lostResult(job: JobSummary): JobResult {
  return {
    jobNumber: job.jobNumber,
    mode: job.mode,
    jobFailed: true,
    error: "sub-orchestration failed",
    tally: emptyTally(),
    requests: 0,
  };
}

/**
 * Starts the lane's next job (a brand-new task, never one scheduled before), or nothing at the lane's end.
 * Its instance id is derived from the job number, so a replay re-attaches to the same child.
 */
function nextInLane(context: OrchestrationContext, input: JobInput, rate: ServiceRate | undefined) {
  const [job, ...next] = input.next ?? [];
  if (!job) return undefined;
  const jobInput: JobInput = {
    projectId: input.projectId,
    runId: input.runId,
    instanceId: input.instanceId,
    job,
    options: input.options,
    tuning: input.tuning,
    next,
    ...(rate ? { rate } : {}),
  };
  return {
    jobs: [job, ...next],
    task: startOrchestrator(
      context,
      orchestratorFor(job),
      jobInput,
      jobInstanceId(input.instanceId, input.runId, job.jobNumber),
    ),
  };
}

/** Polling state of a submitted batch job, carried across continueAsNew and from the run's first-wave probe. */
interface Watch {
  synthesisId: string;
  submittedAt: string;
  polls: number;
  unfinishedMs: number;
  requests: number;
  rate?: ServiceRate | undefined;
  /** How long the job's submit took (orchestration time): the service created it within that. */
  submitMs?: number | undefined;
}

type WatchEnd =
  | { end: "succeeded" }
  | { end: "error"; error: string }
  | { end: "continue" }
  | { end: "cancelled" };

/**
 * Polls a submitted job on durable timers until the service is done with it, at the times `nextPollDelayMs`
 * predicts; learns the rate from its duration. Ends with "continue" after `pollsPerExecution` polls (the
 * caller continues as new). With `cancel`, each timer races the run's cancel waiter (an external event:
 * the only kind of task that may be offered again). `probe`: the run's first watched job (a prior's window
 * is searched in fine steps).
 */
function* watchJob(
  context: OrchestrationContext,
  job: JobSummary,
  tuning: RunTuning,
  watch: Watch,
  cancel?: Task,
  probe = false,
  onPoll?: () => void,
): Generator_<WatchEnd> {
  const submittedAt = new Date(watch.submittedAt).getTime();
  const deadline = submittedAt + jobDeadlineMs(expectedJobMs(job.characters, tuning), tuning);
  let checkFailures = 0;
  for (let i = 0; ; i++) {
    const now = context.df.currentUtcDateTime.getTime();
    if (now >= deadline) return { end: "error", error: "The batch job did not finish before its deadline." };
    const delay = nextPollDelayMs({
      characters: job.characters,
      elapsedMs: now - submittedAt,
      unfinishedMs: watch.unfinishedMs,
      rate: watch.rate,
      probe,
      pilot: job.pilot === true,
      tuning,
    });
    const timer = context.df.createTimer(new Date(now + Math.min(delay, deadline - now)));
    if (cancel) {
      if ((yield context.df.Task.any([timer, cancel])) === cancel) return { end: "cancelled" };
    } else {
      yield timer;
    }
    onPoll?.();
    const polledMs = context.df.currentUtcDateTime.getTime() - submittedAt;
    watch.polls++;
    watch.requests++;
    let check: CheckResult | undefined;
    try {
      check = (yield scheduleActivity(context, CHECK_JOB_ACTIVITY, {
        synthesisId: watch.synthesisId,
      })) as CheckResult;
      checkFailures = 0;
    } catch {
      if (++checkFailures >= MAX_CHECK_FAILURES) {
        return { end: "error", error: "The batch job's status could not be read." };
      }
    }
    if (check?.status === "Succeeded") {
      // The polls' bracket, narrowed by the service's own timing of the job when it gave one.
      const end = endBracket(watch.unfinishedMs, polledMs, check.serviceMs, watch.submitMs);
      watch.rate = learnRate(watch.rate, job.characters, end.unfinishedMs, end.doneMs);
      return { end: "succeeded" };
    }
    if (check?.status === "Failed") return { end: "error", error: check.error ?? "The batch job failed." };
    if (check?.status === "Missing")
      return { end: "error", error: "The batch job disappeared from the service." };
    if (check) watch.unfinishedMs = polledMs;
    if (i + 1 >= (tuning.pollsPerExecution ?? DEFAULT_POLLS_PER_EXECUTION)) return { end: "continue" };
  }
}

/**
 * One batch job of a lane: submit under a deterministic id, poll on durable timers at the end the lane's
 * measured throughput predicts, then, with the service done, collect this job *beside* the lane's next
 * job (`Task.all` of two new sub-orchestrations): the concurrency slot is free as soon as the service is.
 */
export function* batchJobOrchestrator(context: OrchestrationContext): Generator_<LaneResult | undefined> {
  const state = inputOf(context, BATCH_JOB_ORCHESTRATOR);
  const { job, tuning } = state;
  const attempt = state.attempt ?? 1;
  const ref = { projectId: state.projectId, runId: state.runId, jobNumber: job.jobNumber };
  let requests = state.requests ?? 0;
  let synthesisId = state.synthesisId;
  let rate = state.rate;
  // A pilot's rate is the pilots' own (planning/pilot.ts): recorded apart, never carried to the lane's next job.
  let pilotRate: ServiceRate | undefined;
  let jobError: string | undefined;
  let submitMs = state.submitMs;
  try {
    if (!synthesisId) {
      const submitStartedAt = context.df.currentUtcDateTime.getTime();
      const submitted = yield* callWithRetry(context, SUBMIT_JOB_ACTIVITY, {
        ...ref,
        attempt,
        options: state.options,
      });
      requests++;
      if (!submitted.submitted) {
        // Cancelled: the lane ends here (its later jobs are never started).
        return [
          {
            jobNumber: job.jobNumber,
            mode: "batch",
            jobFailed: false,
            cancelled: true,
            tally: emptyTally(),
            requests,
          },
        ];
      }
      synthesisId = submitted.synthesisId;
      submitMs = context.df.currentUtcDateTime.getTime() - submitStartedAt;
    }
    if (!state.serviceDone) {
      const watch: Watch = {
        synthesisId,
        submittedAt: state.submittedAt ?? context.df.currentUtcDateTime.toISOString(),
        polls: state.polls ?? 0,
        unfinishedMs: state.unfinishedMs ?? 0,
        requests,
        ...(rate && !job.pilot ? { rate } : {}),
        ...(submitMs !== undefined ? { submitMs } : {}),
      };
      const end = yield* watchJob(context, job, tuning, watch);
      requests = watch.requests;
      if (job.pilot) pilotRate = watch.rate;
      else rate = watch.rate;
      if (end.end === "error") jobError = end.error;
      if (end.end === "continue") {
        context.df.continueAsNew({ ...state, ...watch, attempt } satisfies BatchJobState);
        return undefined;
      }
    }
  } catch (error) {
    jobError = `The batch job could not be run: ${message(error)}`;
  }

  const collect = startCollect(
    context,
    context.df.instanceId,
    {
      ...ref,
      instanceId: state.instanceId,
      synthesisId: synthesisId ?? "",
      options: state.options,
      maxAttempts: tuning.maxChapterAttempts,
      jobRequests: requests,
    },
    { jobError, rate: job.pilot ? pilotRate : rate, pilot: job.pilot === true },
  );
  const next = nextInLane(context, state, rate);
  let collected: CollectJobResult = {
    tally: emptyTally(),
    requests: 0,
    error: "The batch job's results could not be collected.",
  };
  let following: LaneResult = [];
  try {
    if (next) {
      // Both brand new: a compound task never holds a task scheduled before (the extension would run it again).
      const [c, n] = (yield context.df.Task.all([collect, next.task])) as [CollectJobResult, LaneResult];
      collected = c;
      following = n ?? lostResults(next.jobs);
    } else {
      collected = (yield collect) as CollectJobResult;
    }
  } catch {
    // Children catch their errors; one failing outright leaves its chapters to the final manifest write.
    if (collect.isCompleted) collected = collect.result as CollectJobResult;
    if (next) following = next.task.isCompleted ? (next.task.result as LaneResult) : lostResults(next.jobs);
  }
  return [batchJobResult(job.jobNumber, jobError, requests, collected), ...following];
}

/**
 * Stores a finished batch job's chapters (audio, subtitles, messages, outcomes), deletes the job, then
 * reports the job to the project run.
 */
export function* collectJobOrchestrator(context: OrchestrationContext): Generator_<CollectJobResult> {
  const { jobRequests, ...input } = inputOf(context, COLLECT_JOB_ORCHESTRATOR);
  let tally = emptyTally();
  let error: string | undefined;
  let requests = 0;
  try {
    tally = yield* callWithRetry(context, COLLECT_JOB_ACTIVITY, input);
  } catch (e) {
    error = `The batch job's results could not be collected: ${message(e)}`;
  }
  if (input.synthesisId) {
    try {
      // Results are safe in storage (or the job is abandoned): the job can go.
      yield* callWithRetry(context, DELETE_JOB_ACTIVITY, {
        projectId: input.projectId,
        runId: input.runId,
        synthesisId: input.synthesisId,
      });
      requests++;
    } catch {
      // The job's time-to-live removes it anyway.
    }
  }
  const collected: CollectJobResult = { tally, requests, ...(error ? { error } : {}) };
  yield* reportFinished(
    context,
    input.runId,
    input.instanceId,
    batchJobResult(input.jobNumber, input.jobError, jobRequests ?? 0, collected),
  );
  return collected;
}

/**
 * A group of chapters synthesized one request-chain each through the realtime endpoint: `realtimeConcurrency`
 * lanes (sub-orchestrations started together in one `Task.all` of new tasks), each taking its chapters in
 * order; then the group hands on to the next job of its lane.
 */
export function* realtimeGroupOrchestrator(context: OrchestrationContext): Generator_<LaneResult> {
  const input = inputOf(context, REALTIME_GROUP_ORCHESTRATOR);
  const tally = emptyTally();
  const laneCount = Math.max(1, Math.min(input.tuning.realtimeConcurrency, input.job.chapters));
  const lanes = Array.from({ length: laneCount }, (_, lane) => {
    const laneInput: RealtimeLaneInput = {
      projectId: input.projectId,
      runId: input.runId,
      instanceId: input.instanceId,
      jobNumber: input.job.jobNumber,
      options: input.options,
      positions: Array.from({ length: input.job.chapters }, (_, p) => p).filter(
        (p) => p % laneCount === lane,
      ),
    };
    return startOrchestrator(
      context,
      REALTIME_LANE_ORCHESTRATOR,
      laneInput,
      realtimeLaneInstanceId(context.df.instanceId, lane),
    );
  });
  try {
    for (const laneTally of (yield context.df.Task.all(lanes)) as JobTally[]) addTally(tally, laneTally);
  } catch {
    // A lane failing outright (not expected: lanes catch their errors): its chapters stay pending and the
    // final manifest write marks them failed.
    for (const lane of lanes) if (lane.isCompleted) addTally(tally, lane.result as JobTally);
  }
  const result: JobResult = {
    jobNumber: input.job.jobNumber,
    mode: "realtime",
    jobFailed: false,
    tally,
    requests: 0,
  };
  yield* reportFinished(context, input.runId, input.instanceId, result);
  const next = nextInLane(context, input, input.rate);
  if (!next) return [result];
  try {
    return [result, ...(((yield next.task) as LaneResult | undefined) ?? lostResults(next.jobs))];
  } catch {
    return [result, ...lostResults(next.jobs)];
  }
}

/**
 * Chapters of a realtime group one after another. A chapter whose activity fails (storage, not Speech:
 * Speech failures are recorded as outcomes) is tried again after a durable timer, up to
 * {@link ACTIVITY_ATTEMPTS} times, then counted failed.
 */
export function* realtimeLaneOrchestrator(context: OrchestrationContext): Generator_<JobTally> {
  const input = inputOf(context, REALTIME_LANE_ORCHESTRATOR);
  const tally = emptyTally();
  for (const position of input.positions) {
    const chapter: RealtimeChapterInput = {
      projectId: input.projectId,
      runId: input.runId,
      jobNumber: input.jobNumber,
      instanceId: input.instanceId,
      position,
      options: input.options,
    };
    try {
      addTally(tally, yield* callWithRetry(context, SYNTHESIZE_REALTIME_ACTIVITY, chapter));
    } catch {
      tally.failed++; // the final manifest write marks the chapter failed
    }
  }
  return tally;
}

/**
 * How long a cancelled run waits for the cancel endpoint to terminate it; only a run whose terminate never
 * came (the endpoint failed midway) ends on its own, as Completed with phase `cancelled`.
 */
const CANCELLED_RUN_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * How long a wave waits for a job report before it looks whether its lanes ended anyway (a report that could
 * not be sent, a lane that failed outright). Each wait's timer is cancelled when a report comes first, so
 * timers cost history only in quiet stretches: at most one per 5 minutes of a wave.
 */
const WAVE_CHECK_MS = 5 * 60 * 1000;

/** The `job-finished` event's data. */
const jobReportSchema = z.object({ runId: z.string(), result: jobResultSchema });

/**
 * A project run: plan, run jobs with at most `maxConcurrentJobs` in flight (retries and realtime
 * fallbacks join the queue as jobs finish), keep the manifest and progress current, return the totals.
 */
export function* projectOrchestrator(context: OrchestrationContext): Generator_<ManifestTotals | undefined> {
  const input = inputOf(context, PROJECT_ORCHESTRATOR);
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

  const plan = yield* callWithRetry(context, PLAN_PROJECT_ACTIVITY, {
    projectId: input.projectId,
    runId: input.runId,
    instanceId,
    request: input.request,
    ...(input.chaptersBlob ? { chaptersBlob: input.chaptersBlob } : {}),
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
    return callWithRetry(context, WRITE_MANIFEST_ACTIVITY, write);
  };
  yield* manifest([]);
  /** Jobs whose outcomes a manifest write has merged. */
  const written: number[] = [];

  const countResult = (result: JobResult) => {
    if (result.mode === "batch") {
      if (result.jobFailed) progress.jobs.failed++;
      else progress.jobs.succeeded++;
      if (!result.cancelled) counters.batchJobs++;
    } else {
      progress.realtime.completed++;
    }
    progress.chapters.succeeded += result.tally.succeeded;
    progress.chapters.failed += result.tally.failed;
    counters.speechRequests += result.requests + result.tally.speechRequests;
    counters.billableCharacters += result.tally.billableCharacters;
  };

  /**
   * Every `job-finished` waiter of the run, in creation order. The SDK hands an event to the newest open
   * waiter of its name (a stack), to an older one left open by a timer that won, or holds it for the next
   * waiter; so all of them are read, each once.
   */
  const reportWaiters: Task[] = [];
  const readWaiters = new Set<Task>();
  /** Job numbers counted: a report is delivered at least once, and a job may also come back with its lane. */
  const counted = new Set<number>();
  const newReportWaiter = () => {
    const waiter = context.df.waitForExternalEvent(JOB_FINISHED_EVENT);
    reportWaiters.push(waiter);
    return waiter;
  };
  /** New reports of this run's current wave (others: a duplicate, or a late copy from an earlier run). */
  const takeReports = (inWave: ReadonlySet<number>, results: ReadonlyMap<number, JobResult>) => {
    const fresh: JobResult[] = [];
    for (const waiter of reportWaiters) {
      if (readWaiters.has(waiter) || !waiter.isCompleted) continue;
      readWaiters.add(waiter);
      const report = jobReportSchema.safeParse(waiter.result);
      if (!report.success || report.data.runId !== input.runId) continue;
      const { result } = report.data;
      if (!inWave.has(result.jobNumber) || results.has(result.jobNumber) || counted.has(result.jobNumber))
        continue;
      counted.add(result.jobNumber);
      fresh.push(result);
    }
    return fresh;
  };

  /** The pilot's collection, started by the first wave's probe rather than by a lane (planning/pilot.ts). */
  interface PilotCollect {
    job: JobSummary;
    task: Task;
    jobError?: string;
    requests: number;
  }
  interface FirstWave {
    /** Polling state of the jobs the probe submitted (and watched), by job number. */
    states: Map<number, Partial<BatchJobState>>;
    /** The pilot, when the probe saw it through to its collection. */
    pilot?: PilotCollect;
    /** The pilot's result, counted in the progress while the probe still watched its head. */
    pilotResult?: JobResult;
  }

  /**
   * The run's first wave: nothing is known of the service's speed yet. Every lane's first job is submitted
   * at once and the one that should finish first is watched here, then the lanes start with the rate measured:
   * the other first jobs are checked near their predicted end instead of each running its own ladder.
   * With a pilot (planning/pilot.ts), the pilot takes the first lane's slot and is watched first, closely;
   * done, its collection starts beside the first lane's job, and the probe goes on with the other heads.
   * Returns each head's polling state, or undefined when a submit failed (the lanes submit as usual: the
   * synthesis ids are deterministic, so a job already created is re-attached, not paid again).
   */
  function* probeFirstWave(
    heads: JobSummary[],
    pilot: JobSummary | undefined,
  ): Generator_<FirstWave | "cancelled" | undefined> {
    const submit = (job: JobSummary) =>
      scheduleActivity(context, SUBMIT_JOB_ACTIVITY, {
        projectId: input.projectId,
        runId: input.runId,
        jobNumber: job.jobNumber,
        attempt: 1,
        options,
      });
    const [laneHead, ...otherHeads] = heads;
    const atOnce = pilot ? [pilot, ...otherHeads] : heads;
    const submitStartedAt = context.df.currentUtcDateTime.getTime();
    let submitted: SubmitResult[];
    try {
      submitted = (yield context.df.Task.all(atOnce.map(submit))) as SubmitResult[];
    } catch {
      return undefined;
    }
    const submittedAt = context.df.currentUtcDateTime.toISOString();
    const submitMs = context.df.currentUtcDateTime.getTime() - submitStartedAt;
    const states = new Map<number, Partial<BatchJobState>>();
    for (const [k, result] of submitted.entries()) {
      if (!result.submitted) return undefined;
      states.set((atOnce[k] as JobSummary).jobNumber, {
        synthesisId: result.synthesisId,
        submittedAt,
        requests: 1,
        submitMs,
      });
    }
    const firstWave: FirstWave = { states };
    /** The polling state of a job just submitted here (its submit is its one request so far). */
    const freshWatch = (job: JobSummary): Watch => ({
      synthesisId: states.get(job.jobNumber)?.synthesisId as string,
      submittedAt,
      polls: 0,
      unfinishedMs: 0,
      requests: 1,
      submitMs,
    });
    if (pilot) {
      const watch = freshWatch(pilot);
      const end = yield* watchJob(context, pilot, plan.tuning, watch, cancelRequested, true);
      if (end.end === "cancelled") return "cancelled";
      if (end.end === "continue") {
        // Still running after a whole execution's polls: its lane takes it back and polls it on.
        states.set(pilot.jobNumber, watch);
      } else {
        states.delete(pilot.jobNumber);
        const jobError = end.end === "error" ? end.error : undefined;
        const collectInput = {
          projectId: input.projectId,
          runId: input.runId,
          jobNumber: pilot.jobNumber,
          instanceId,
          synthesisId: watch.synthesisId,
          options,
          maxAttempts: plan.tuning.maxChapterAttempts,
        };
        if (laneHead && !jobError) {
          // The run's first video message before the first lane's submit: that activity reads a full job's
          // chapters and sends its request (about 1.5 MB); beside it, on one worker, the first chapter's store
          // took 0.40-0.86 s instead of 0.17-0.21 s (book-batch, traced here). The submit waits for one
          // chapter's store; the collection proper finds that chapter done. Not fatal: the collection stores
          // it otherwise.
          try {
            yield scheduleActivity(context, COLLECT_JOB_ACTIVITY, {
              ...collectInput,
              firstChapterOnly: true,
            });
          } catch {
            // The collection below stores it.
          }
        }
        const task = startCollect(
          context,
          jobInstanceId(instanceId, input.runId, pilot.jobNumber),
          { ...collectInput, jobRequests: watch.requests },
          { jobError, rate: watch.rate, pilot: true },
        );
        firstWave.pilot = { job: pilot, task, requests: watch.requests, ...(jobError ? { jobError } : {}) };
        if (laneHead) {
          // The pilot's slot goes to the first lane's job, submitted beside the pilot's collection (both new
          // tasks); the collection is not waited for here: its report reaches the run like a lane's.
          const headSubmitStartedAt = context.df.currentUtcDateTime.getTime();
          const submitHead = submit(laneHead);
          try {
            yield context.df.Task.any([task, submitHead]);
            // Awaited alone if still running: the SDK adds no action for a task it already scheduled
            // (durable-functions 3.x TaskOrchestrationExecutor, `alreadyScheduled`), so the extension sees
            // the submit once; it is never put into another compound task.
            const result = (submitHead.isCompleted ? submitHead.result : yield submitHead) as SubmitResult;
            if (result.submitted) {
              states.set(laneHead.jobNumber, {
                synthesisId: result.synthesisId,
                submittedAt: context.df.currentUtcDateTime.toISOString(),
                requests: 1,
                submitMs: context.df.currentUtcDateTime.getTime() - headSubmitStartedAt,
              });
            }
          } catch {
            // The lane submits it itself (the same deterministic id).
          }
        }
      }
    }
    // The head the service should finish first among those submitted at once (fewest characters: the
    // earliest predicted end at any rate; ties: the first): without a pilot, the run's first video messages
    // come from it; every lane waits for the probe.
    const watchable = pilot ? otherHeads : heads;
    if (watchable.length === 0 || (!pilot && watchable.length < 2)) return firstWave;
    const first = watchable.reduce((soonest, job) => (job.characters < soonest.characters ? job : soonest));
    const watch = freshWatch(first);
    // The pilot's collection ends while the probe watches (its report waits for the wave): each poll counts
    // it in the progress once it has, so the status does not say 0 chapters while its videos are out.
    const notePilot = () => {
      const collect = firstWave.pilot;
      if (!collect || firstWave.pilotResult || !collect.task.isCompleted) return;
      const result = batchJobResult(
        collect.job.jobNumber,
        collect.jobError,
        collect.requests,
        collect.task.result as CollectJobResult,
      );
      firstWave.pilotResult = result;
      counted.add(result.jobNumber);
      countResult(result);
      publish();
    };
    // Searched finely within a prior's window (polling.ts, PROBE_WINDOW_STEPS): the lanes wait for it.
    const end = yield* watchJob(context, first, plan.tuning, watch, cancelRequested, true, notePilot);
    if (end.end === "cancelled") return "cancelled";
    states.set(first.jobNumber, {
      ...watch,
      // Seen done: its lane collects it at once. Otherwise (failed, still running) the lane polls it again.
      ...(end.end === "succeeded" ? { serviceDone: true } : {}),
    });
    if (watch.rate) {
      for (const [jobNumber, state] of states) if (jobNumber !== pilot?.jobNumber) state.rate = watch.rate;
    }
    return firstWave;
  }

  let firstWave = true;
  let wave: JobSummary[] = [...plan.jobs];
  let nextJobNumber = plan.jobs.reduce((n, j) => Math.max(n, j.jobNumber), 0) + 1;
  while (wave.length > 0) {
    if (cancelRequested.isCompleted) return yield* stopCancelled();
    // `maxConcurrentJobs` lanes, jobs dealt round-robin: lane i runs jobs i, i+L, i+2L… one after another.
    // The pilot (planning/pilot.ts) is the probe's, ahead of the lanes; it goes back to the first lane when
    // the probe could not see it through.
    const pilot = firstWave ? wave.find((j) => j.pilot === true && j.mode === "batch") : undefined;
    const laneJobs = pilot ? wave.filter((j) => j !== pilot) : wave;
    const laneCount = Math.min(plan.options.maxConcurrentJobs, laneJobs.length);
    const lanes = Array.from({ length: laneCount }, (_, lane) =>
      laneJobs.filter((_, k) => k % laneCount === lane),
    );
    const batchHeads = lanes.map(([job]) => job as JobSummary).filter((job) => job.mode === "batch");
    progress.jobs.submitted += wave.filter((j) => j.mode === "batch").length;
    progress.jobs.running = batchHeads.length;
    progress.realtime.running = lanes.filter(([job]) => job?.mode === "realtime").length;
    publish();
    const probe =
      firstWave && (pilot ? batchHeads.length >= 1 : batchHeads.length >= 2)
        ? yield* probeFirstWave(batchHeads, pilot)
        : undefined;
    if (probe === "cancelled") return yield* stopCancelled();
    const pilotRun = probe?.pilot;
    if (pilot && !pilotRun) lanes[0]?.unshift(pilot);
    firstWave = false;
    const heads = lanes.map(([job, ...next]) => {
      const head = job as JobSummary;
      const jobInput: JobInput & Partial<BatchJobState> = {
        projectId: input.projectId,
        runId: input.runId,
        instanceId,
        job: head,
        options,
        tuning: plan.tuning,
        next,
        ...probe?.states.get(head.jobNumber),
      };
      return startOrchestrator(
        context,
        orchestratorFor(head),
        jobInput,
        jobInstanceId(instanceId, input.runId, head.jobNumber),
      );
    });
    // Fresh tasks only: the lanes' Task.all is new, the waiters are external events (they take no id). The
    // lanes are yielded this once; afterwards the run waits on reports and reads `isCompleted` (the SDK
    // records a completion whether or not the task is being awaited).
    const all = context.df.Task.all(heads);
    const inWave = new Set(wave.map((j) => j.jobNumber));
    const results = new Map<number, JobResult>();
    const countRunning = () => {
      // A lane's current job is its first one not yet finished.
      const current = lanes.map((jobs) => jobs.find((j) => !results.has(j.jobNumber)));
      progress.jobs.running = current.filter((j) => j?.mode === "batch").length;
      progress.realtime.running = current.filter((j) => j?.mode === "realtime").length;
    };
    const finish = (result: JobResult) => {
      results.set(result.jobNumber, result);
      counted.add(result.jobNumber);
      countResult(result);
    };
    // The pilot, counted while the probe watched (its report, when it comes, is a duplicate): its outcomes
    // go into the manifest with the first reports (the lanes start first).
    const early = probe?.pilotResult;
    const unmerged: number[] = [];
    if (early) {
      results.set(early.jobNumber, early);
      unmerged.push(early.jobNumber);
    }
    yield context.df.Task.any([all, cancelRequested, newReportWaiter()]);
    for (;;) {
      if (cancelRequested.isCompleted) return yield* stopCancelled();
      const reported = takeReports(inWave, results);
      if (reported.length > 0) {
        for (const result of reported) finish(result);
        countRunning();
        publish();
        const merging = [...unmerged.splice(0), ...reported.map((r) => r.jobNumber)];
        yield* manifest(merging);
        written.push(...merging);
        continue; // more reports may have come in meanwhile
      }
      if (wave.every((j) => results.has(j.jobNumber))) break;
      const pilotPending =
        pilotRun !== undefined &&
        !results.has(pilotRun.job.jobNumber) &&
        !pilotRun.task.isCompleted &&
        !pilotRun.task.isFaulted;
      if ((all.isCompleted || all.isFaulted) && !pilotPending) {
        // The lanes ended with some jobs unreported (a report that could not be sent, a lane that failed).
        lanes.forEach((jobs, lane) => {
          const head = heads[lane];
          const laneResult = head?.isCompleted ? (head.result as LaneResult | undefined) : undefined;
          const byNumber = new Map((laneResult ?? []).map((r) => [r.jobNumber, r]));
          for (const job of jobs) {
            if (!results.has(job.jobNumber)) finish(byNumber.get(job.jobNumber) ?? lostResult(job));
          }
        });
        if (pilotRun && !results.has(pilotRun.job.jobNumber)) {
          const { job, task, jobError, requests } = pilotRun;
          finish(
            task.isCompleted
              ? batchJobResult(job.jobNumber, jobError, requests, task.result as CollectJobResult)
              : lostResult(job),
          );
        }
        break;
      }
      // Wait for the next report; a bounded timer looks at the lanes now and then in case none comes.
      const check = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + WAVE_CHECK_MS));
      const woke = yield context.df.Task.any([cancelRequested, newReportWaiter(), check]);
      // A timer that lost is cancelled, so it neither fires nor keeps the run open at its end.
      if (woke !== check && !check.isCompleted) check.cancel();
    }
    progress.jobs.running = 0;
    progress.realtime.running = 0;
    const nextWave: JobSummary[] = [];
    for (const job of wave) {
      const result = results.get(job.jobNumber) as JobResult;
      if (result.tally.retry + result.tally.realtime > 0) {
        const retryInput: PlanRetriesInput = {
          projectId: input.projectId,
          runId: input.runId,
          jobNumber: result.jobNumber,
          nextJobNumber,
          options: {
            voice: plan.options.voice,
            outputFormat: plan.options.outputFormat,
            wordBoundaries: plan.options.wordBoundaries,
            maxChaptersPerJob: plan.options.maxChaptersPerJob,
          },
          maxPayloadBytes: plan.tuning.maxPayloadBytes,
          jobFailed: result.jobFailed,
        };
        const more = yield* callWithRetry(context, PLAN_RETRIES_ACTIVITY, retryInput);
        nextJobNumber += more.length;
        nextWave.push(...more);
      }
    }
    const unwritten = wave.map((j) => j.jobNumber).filter((n) => !written.includes(n));
    if (unwritten.length > 0) yield* manifest(unwritten);
    publish();
    wave = nextWave;
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
