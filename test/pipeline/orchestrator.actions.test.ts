import { describe, expect, it } from "vitest";
import type { JobInput } from "../../src/pipeline/contracts.js";
import {
  BATCH_JOB_ORCHESTRATOR,
  CHECK_JOB_ACTIVITY,
  COLLECT_JOB_ORCHESTRATOR,
  JOB_FINISHED_EVENT,
  PLAN_PROJECT_ACTIVITY,
  PLAN_RETRIES_ACTIVITY,
  REALTIME_LANE_ORCHESTRATOR,
  REPORT_JOB_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  SYNTHESIZE_REALTIME_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
} from "../../src/pipeline/names.js";
import {
  batchJobOrchestrator,
  type JobResult,
  projectOrchestrator,
  realtimeGroupOrchestrator,
  realtimeLaneOrchestrator,
} from "../../src/pipeline/orchestrators.js";
import type { PlanResult } from "../../src/pipeline/planning/planRun.js";
import type { JobSummary } from "../../src/pipeline/planning/schema.js";
import { emptyTally, type JobTally } from "../../src/pipeline/tally.js";
import { ActionType, type OpenTask, type Outcome, replay, type SdkAction } from "./sdkReplay.js";

/**
 * The rule the Durable extension imposes (it re-schedules every child of a new WhenAny/WhenAll action:
 * azure-functions-durable-js #574, extension `OutOfProcOrchestrationShim`): no task already scheduled may
 * appear in a new compound task. Each orchestrator runs through the real SDK, tasks completing latest-first
 * (the order that made the old sliding windows re-yield running tasks), and every episode's cumulative
 * action list is checked for an atomic action in two places.
 */

const tuning = {
  maxChapterAttempts: 3,
  maxPayloadBytes: 1_900_000,
  realtimeConcurrency: 4,
  expectedCharsPerSecond: 500,
  pollMinMs: 5_000,
  pollMaxMs: 60_000,
  jobTimeoutMs: 3_600_000,
  pollsPerExecution: 40,
};
const options = { voice: "v", outputFormat: "audio-24khz-96kbitrate-mono-mp3", wordBoundaries: true };

const succeeded = (chapters: number): JobTally => ({
  ...emptyTally(),
  succeeded: chapters,
  billableCharacters: 100 * chapters,
});

/** Latest-first: the newest open task completes (a timer fires) before older ones. */
function latestFirst(respond: (action: SdkAction) => Outcome) {
  return (open: OpenTask[]) => {
    const task = open.at(-1);
    return task ? { task, outcome: respond(task.action) } : undefined;
  };
}

function expectNoTaskScheduledTwice(episodes: { duplicates: SdkAction[] }[]) {
  const offending = episodes.findIndex((e) => e.duplicates.length > 0);
  expect(offending, `episode ${offending} re-yields a scheduled task`).toBe(-1);
}

function subCalls(actions: SdkAction[]): SdkAction[] {
  const found: SdkAction[] = [];
  const visit = (a: SdkAction) => {
    if (a.compoundActions) a.compoundActions.forEach(visit);
    else if (a.actionType === ActionType.CallSubOrchestrator) found.push(a);
  };
  actions.forEach(visit);
  return found;
}

/** Five 2-chapter batch jobs, two lanes; job 2 leaves one chapter for a retry job (job 6). */
function projectScenario() {
  const jobs: JobSummary[] = [1, 2, 3, 4, 5].map((n) => ({
    jobNumber: n,
    mode: "batch",
    chapters: 2,
    characters: 200,
  }));
  const plan: PlanResult = {
    planBlob: "book/r1/plan.json",
    options: { ...options, mode: "batch", maxChaptersPerJob: 2, maxConcurrentJobs: 2, force: false },
    tuning,
    counts: {
      total: 10,
      pending: 10,
      unchanged: 0,
      rejected: 0,
      succeeded: 0,
      failed: 0,
      ignored: 0,
      characters: 1000,
      words: 100,
      billableCharacters: 1000,
    },
    jobs,
  };
  const laneResult = (input: JobInput): JobResult[] =>
    [input.job, ...(input.next ?? [])].map((job) => ({
      jobNumber: job.jobNumber,
      mode: "batch",
      jobFailed: false,
      // Job 2 leaves one chapter for a later job.
      tally: job.jobNumber === 2 ? { ...succeeded(1), retry: 1 } : succeeded(job.chapters),
      requests: 3,
    }));
  const respond = (action: SdkAction): Outcome => {
    if (action.actionType === ActionType.CreateTimer) return { result: undefined };
    if (action.functionName === SUBMIT_JOB_ACTIVITY) {
      const { jobNumber } = action.input as { jobNumber: number };
      return { result: { submitted: true, synthesisId: `s${jobNumber}`, status: "NotStarted" } };
    }
    if (action.functionName === CHECK_JOB_ACTIVITY) return { result: { status: "Succeeded" } };
    if (action.functionName === PLAN_PROJECT_ACTIVITY) return { result: plan };
    if (action.functionName === WRITE_MANIFEST_ACTIVITY) return { result: { chapters: 10, succeeded: 10 } };
    if (action.functionName === PLAN_RETRIES_ACTIVITY) {
      return { result: [{ jobNumber: 6, mode: "batch", chapters: 1, characters: 100 }] };
    }
    if (action.functionName === BATCH_JOB_ORCHESTRATOR)
      return { result: laneResult(action.input as JobInput) };
    throw new Error(`unexpected ${action.functionName}`);
  };
  return { respond };
}

/** Three 2-chapter batch jobs in one lane (no first-wave probe with a single lane). */
function oneLanePlan(): PlanResult {
  return {
    planBlob: "book/r1/plan.json",
    options: { ...options, mode: "batch", maxChaptersPerJob: 2, maxConcurrentJobs: 1, force: false },
    tuning,
    counts: {
      total: 6,
      pending: 6,
      unchanged: 0,
      rejected: 0,
      succeeded: 0,
      failed: 0,
      ignored: 0,
      characters: 600,
      words: 60,
      billableCharacters: 600,
    },
    jobs: [1, 2, 3].map((n) => ({ jobNumber: n, mode: "batch" as const, chapters: 2, characters: 200 })),
  };
}

const jobResult = (jobNumber: number): JobResult => ({
  jobNumber,
  mode: "batch",
  jobFailed: false,
  tally: { ...succeeded(2), speechRequests: 1 },
  requests: 3,
});

const report = (jobNumber: number, runId = "r1") => ({
  event: JOB_FINISHED_EVENT,
  data: { runId, result: jobResult(jobNumber) },
});

type DriverStep = ReturnType<typeof report> | "timer" | "lane";

/**
 * Activities complete at once; otherwise the next step: a report event, the newest uncancelled timer
 * firing, or the lane (jobs 1-3) completing with its results.
 */
function reportDriver(steps: DriverStep[]) {
  const queue = [...steps];
  return (open: OpenTask[]) => {
    const activity = open.find((t) => t.action.actionType === ActionType.CallActivity);
    if (activity) {
      const name = activity.action.functionName;
      if (name === PLAN_PROJECT_ACTIVITY) return { task: activity, outcome: { result: oneLanePlan() } };
      if (name === WRITE_MANIFEST_ACTIVITY) return { task: activity, outcome: { result: { chapters: 6 } } };
      throw new Error(`unexpected ${name}`);
    }
    const step = queue.shift();
    if (step === undefined) return undefined;
    if (step === "timer") {
      const timer = open
        .filter((t) => t.action.actionType === ActionType.CreateTimer)
        .filter((t) => !(t.action as { isCanceled?: boolean }).isCanceled)
        .at(-1);
      if (!timer) throw new Error("no timer to fire");
      return { task: timer, outcome: { result: undefined } };
    }
    if (step === "lane") {
      const lane = open.find((t) => t.action.actionType === ActionType.CallSubOrchestrator);
      if (!lane) throw new Error("no lane open");
      return { task: lane, outcome: { result: [1, 2, 3].map(jobResult) } };
    }
    return step;
  };
}

/** The manifest writes of a run, in order: their job numbers, or "final". */
function manifestWrites(actions: SdkAction[]): (number[] | "final")[] {
  const writes: SdkAction[] = [];
  const visit = (a: SdkAction) => {
    if (a.compoundActions) a.compoundActions.forEach(visit);
    else if (a.functionName === WRITE_MANIFEST_ACTIVITY) writes.push(a);
  };
  actions.forEach(visit);
  return writes.map((a) => {
    const input = a.input as { jobNumbers: number[]; completedAt?: string };
    return input.completedAt ? "final" : input.jobNumbers;
  });
}

describe("no task is scheduled twice (what the Durable extension requires)", () => {
  it("project run: lanes of jobs, a retry wave, no running job offered again", async () => {
    const { respond } = projectScenario();
    const run = await replay(projectOrchestrator as never, {
      input: { projectId: "book", runId: "r1", request: {} },
      next: latestFirst(respond),
    });
    expect(run.done).toBe(true);
    expectNoTaskScheduledTwice(run.episodes);
    const started = subCalls(run.episodes.at(-1)?.actions ?? []).map((a) => [
      a.instanceId,
      (a.input as JobInput).next?.map((j) => j.jobNumber),
    ]);
    // The first wave's heads were submitted and job 1 watched by the run; job 1 is handed over done.
    const heads = subCalls(run.episodes.at(-1)?.actions ?? []).map((a) => a.input as Record<string, unknown>);
    expect(heads[0]).toMatchObject({ synthesisId: "s1", serviceDone: true });
    expect(heads[1]).toMatchObject({ synthesisId: "s2", rate: { low: expect.any(Number) } });
    // Two lanes (jobs 1,3,5 and 2,4), then the retry job alone.
    expect(started).toEqual([
      ["tts-book:r1:job-1", [3, 5]],
      ["tts-book:r1:job-2", [4]],
      ["tts-book:r1:job-6", []],
    ]);
  });

  it("project run cancelled in its retry wave: the cancel waiter is the only task offered again", async () => {
    const { respond } = projectScenario();
    const pick = latestFirst(respond);
    let cancelled = false;
    const run = await replay(projectOrchestrator as never, {
      input: { projectId: "book", runId: "r1", request: {} },
      next: (open) => {
        const retryJob = open.find((t) => t.action.instanceId === "tts-book:r1:job-6");
        if (retryJob && !cancelled) {
          cancelled = true;
          return { event: "cancel" };
        }
        return pick(open);
      },
    });
    expect(cancelled).toBe(true);
    expect(run.done).toBe(true);
    expectNoTaskScheduledTwice(run.episodes);
    // Stopped: it waited (a day) to be terminated instead of writing the final manifest.
    const last = run.episodes.at(-1)?.actions ?? [];
    const timers = last.filter((a) => a.actionType === ActionType.CreateTimer);
    expect(timers.length).toBeGreaterThan(0);

    const manifests = last.filter((a) => a.functionName === WRITE_MANIFEST_ACTIVITY);
    expect(manifests.some((a) => (a.input as { completedAt?: string }).completedAt)).toBe(false);
  });

  it("project run: progress and manifest per job from job-finished reports, lanes yielded once", async () => {
    const run = await replay(projectOrchestrator as never, {
      input: { projectId: "book", runId: "r1", request: {} },
      next: reportDriver([
        report(1),
        report(1), // delivered again (at least once): counted once
        report(2, "r0"), // a late copy from an earlier run of the project: ignored
        report(2),
        report(3),
      ]),
    });
    expect(run.done).toBe(true);
    expectNoTaskScheduledTwice(run.episodes);
    const last = run.episodes.at(-1)?.actions ?? [];
    // One lane, started once; the wave is never offered again.
    expect(subCalls(last).map((a) => a.instanceId)).toEqual(["tts-book:r1:job-1"]);
    const whenAlls = last
      .flatMap((a) => [a, ...(a.compoundActions ?? [])])
      .filter((a) => a.actionType === ActionType.WhenAll);
    expect(whenAlls).toHaveLength(1);
    // The manifest was rewritten as each job finished, then once at the end.
    expect(manifestWrites(last)).toEqual([[], [1], [2], [3], "final"]);
    // While the lane still ran, customStatus already counted job 1's chapters.
    const afterFirst = run.episodes.find(
      (e) => (e.customStatus as { chapters?: { succeeded: number } }).chapters?.succeeded === 2,
    );
    expect(afterFirst?.customStatus).toMatchObject({
      phase: "synthesizing",
      chapters: { succeeded: 2, pending: 4 },
      jobs: { succeeded: 1, running: 1 },
    });
    const final = last.find((a) => (a.input as { completedAt?: string } | undefined)?.completedAt);
    expect(final?.input).toMatchObject({
      batchJobs: 3,
      speechRequests: 3 * (3 + 1),
      billableCharacters: 600,
    });
    // Every wait's timer that lost to a report was cancelled (it neither fires nor holds the run open).
    const timers = last
      .flatMap((a) => [a, ...(a.compoundActions ?? [])])
      .filter((a) => a.actionType === ActionType.CreateTimer);
    // One wait after each of the first four reports (job 1, its duplicate, the other run's, job 2).
    expect(timers.length).toBe(4);
    expect(timers.every((t) => (t as { isCanceled?: boolean }).isCanceled)).toBe(true);
  });

  it("project run: a report that never comes is made up from the lane's result after a check timer", async () => {
    const run = await replay(projectOrchestrator as never, {
      input: { projectId: "book", runId: "r1", request: {} },
      next: reportDriver([report(1), "timer", "lane", "timer"]),
    });
    expect(run.done).toBe(true);
    expectNoTaskScheduledTwice(run.episodes);
    const last = run.episodes.at(-1)?.actions ?? [];
    expect(manifestWrites(last)).toEqual([[], [1], [2, 3], "final"]);
    const final = last.find((a) => (a.input as { completedAt?: string } | undefined)?.completedAt);
    // Job 1 came both as a report and in the lane's result: counted once.
    expect(final?.input).toMatchObject({ batchJobs: 3, speechRequests: 12, billableCharacters: 600 });
    expect(run.episodes.at(-1)?.customStatus).toMatchObject({ phase: "completed" });
  });

  it("batch job: polls, then collects beside the lane's next job, both new", async () => {
    const input: JobInput = {
      projectId: "book",
      runId: "r1",
      instanceId: "tts-book",
      job: { jobNumber: 1, mode: "batch", chapters: 2, characters: 200_000 },
      next: [{ jobNumber: 3, mode: "batch", chapters: 2, characters: 200_000 }],
      options,
      tuning,
    };
    let checks = 0;
    const run = await replay(batchJobOrchestrator as never, {
      input,
      instanceId: "tts-book:r1:job-1",
      next: latestFirst((action) => {
        if (action.actionType === ActionType.CreateTimer) return { result: undefined };
        if (action.functionName === SUBMIT_JOB_ACTIVITY) {
          return { result: { submitted: true, synthesisId: "s1", status: "NotStarted" } };
        }
        if (action.functionName === CHECK_JOB_ACTIVITY) {
          return { result: { status: ++checks < 3 ? "Running" : "Succeeded" } };
        }
        if (action.functionName === COLLECT_JOB_ORCHESTRATOR) {
          // The collector reports the whole job: it is told the requests made before it.
          expect(action.input).toMatchObject({ jobNumber: 1, jobRequests: 4 });
          return { result: { tally: succeeded(2), requests: 1 } };
        }
        if (action.functionName === BATCH_JOB_ORCHESTRATOR) {
          return {
            result: [{ jobNumber: 3, mode: "batch", jobFailed: false, tally: succeeded(2), requests: 3 }],
          };
        }
        throw new Error(`unexpected ${action.functionName}`);
      }),
    });
    expect(run.done).toBe(true);
    expectNoTaskScheduledTwice(run.episodes);
    const last = run.episodes.at(-1)?.actions ?? [];
    const all = last.find((a) => a.actionType === ActionType.WhenAll);
    expect(all?.compoundActions?.map((a) => [a.functionName, a.instanceId])).toEqual([
      [COLLECT_JOB_ORCHESTRATOR, "tts-book:r1:job-1:collect"],
      [BATCH_JOB_ORCHESTRATOR, "tts-book:r1:job-3"],
    ]);
    // The next job learns the measured throughput.
    const nextInput = all?.compoundActions?.[1]?.input as JobInput | undefined;
    expect(nextInput?.rate?.low).toBeGreaterThan(0);
    expect(run.output).toMatchObject([
      { jobNumber: 1, jobFailed: false, tally: { succeeded: 2 }, requests: 1 + 3 + 1 },
      { jobNumber: 3 },
    ]);
  });

  it("realtime group: lanes started together, a failed chapter retried after a durable timer", async () => {
    const input: JobInput = {
      projectId: "book",
      runId: "r1",
      instanceId: "tts-book",
      job: { jobNumber: 2, mode: "realtime", chapters: 6, characters: 600 },
      options,
      tuning,
    };
    const group = await replay(realtimeGroupOrchestrator as never, {
      input,
      instanceId: "tts-book:r1:job-2",
      next: latestFirst((action) => {
        if (action.functionName === REALTIME_LANE_ORCHESTRATOR) {
          return { result: succeeded((action.input as { positions: number[] }).positions.length) };
        }
        if (action.functionName === REPORT_JOB_ACTIVITY) return { result: "raised" };
        throw new Error(`unexpected ${action.functionName}`);
      }),
    });
    expect(group.done).toBe(true);
    expectNoTaskScheduledTwice(group.episodes);
    expect(
      subCalls(group.episodes.at(-1)?.actions ?? []).map(
        (a) => (a.input as { positions: number[] }).positions,
      ),
    ).toEqual([[0, 4], [1, 5], [2], [3]]);
    expect(group.output).toMatchObject([{ jobNumber: 2, mode: "realtime", tally: { succeeded: 6 } }]);
    // The group reported itself to the run as soon as its lanes were done.
    const reports = (group.episodes.at(-1)?.actions ?? []).filter(
      (a) => a.functionName === REPORT_JOB_ACTIVITY,
    );
    expect(reports.map((a) => a.input)).toMatchObject([
      { instanceId: "tts-book", runId: "r1", result: { jobNumber: 2, tally: { succeeded: 6 } } },
    ]);

    let failures = 0;
    const order: string[] = [];
    const lane = await replay(realtimeLaneOrchestrator as never, {
      input: {
        projectId: "book",
        runId: "r1",
        instanceId: "tts-book",
        jobNumber: 2,
        options,
        positions: [0, 4],
      },
      next: latestFirst((action) => {
        if (action.actionType === ActionType.CreateTimer) {
          order.push("timer");
          return { result: undefined };
        }
        if (action.functionName === SYNTHESIZE_REALTIME_ACTIVITY) {
          order.push(`chapter ${(action.input as { position: number }).position}`);
          if (failures++ === 0) return { error: "storage unavailable" };
          return { result: succeeded(1) };
        }
        throw new Error(`unexpected ${action.functionName}`);
      }),
    });
    expect(lane.done).toBe(true);
    expectNoTaskScheduledTwice(lane.episodes);
    expect(order).toEqual(["chapter 0", "timer", "chapter 0", "chapter 4"]);
    expect(lane.output).toMatchObject({ succeeded: 2, failed: 0 });
  });
});
