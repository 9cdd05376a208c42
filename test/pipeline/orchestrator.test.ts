import type { OrchestrationContext } from "durable-functions";
import { describe, expect, it } from "vitest";
import type { JobInput } from "../../src/pipeline/contracts.js";
import {
  BATCH_JOB_ORCHESTRATOR,
  CANCEL_EVENT,
  CHECK_JOB_ACTIVITY,
  COLLECT_JOB_ACTIVITY,
  COLLECT_JOB_ORCHESTRATOR,
  DELETE_JOB_ACTIVITY,
  JOB_FINISHED_EVENT,
  PLAN_PROJECT_ACTIVITY,
  PLAN_RETRIES_ACTIVITY,
  REPORT_JOB_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
} from "../../src/pipeline/names.js";
import {
  batchJobOrchestrator,
  collectJobOrchestrator,
  type JobResult,
  projectOrchestrator,
} from "../../src/pipeline/orchestrators.js";
import type { PlanResult } from "../../src/pipeline/planning/planRun.js";
import { endBracket } from "../../src/pipeline/polling.js";
import { expectActivityContract, expectOrchestratorContract } from "./activityContract.js";

/**
 * The project orchestrator's control flow, stepped by hand with a fake `context.df` (the real replay runs
 * in the end-to-end tests): the job window, retries joining the queue, counters and the final manifest.
 */
interface FakeTask {
  kind: "activity" | "sub" | "any" | "all" | "timer" | "event";
  name?: string;
  input?: unknown;
  instanceId?: string;
  isCompleted: boolean;
  isFaulted: boolean;
  result?: unknown;
  tasks?: FakeTask[];
  /** A Task.any's external-event waiters, kept apart from its jobs. */
  events?: FakeTask[];
}

function fakeContext(input: unknown) {
  const statuses: unknown[] = [];
  const continued: unknown[] = [];
  const df = {
    callActivity: (name: string, activityInput: unknown): FakeTask => {
      expectActivityContract(name, activityInput);
      return { kind: "activity", name, input: activityInput, isCompleted: false, isFaulted: false };
    },
    createTimer: (fireAt: Date): FakeTask => ({
      kind: "timer",
      input: fireAt,
      isCompleted: false,
      isFaulted: false,
    }),
    continueAsNew: (next: unknown) => continued.push(next),
    instanceId: "tts-book",
    currentUtcDateTime: new Date("2026-01-01T00:00:00Z"),
    getInput: () => input,
    setCustomStatus: (s: unknown) => statuses.push(structuredClone(s)),
    callActivityWithRetry: (name: string, _retry: unknown, activityInput: unknown): FakeTask => ({
      kind: "activity",
      name,
      input: activityInput,
      isCompleted: false,
      isFaulted: false,
    }),
    callSubOrchestrator: (name: string, subInput: unknown, instanceId: string): FakeTask => {
      expectOrchestratorContract(name, subInput);
      return { kind: "sub", name, input: subInput, instanceId, isCompleted: false, isFaulted: false };
    },
    waitForExternalEvent: (name: string): FakeTask => ({
      kind: "event",
      name,
      isCompleted: false,
      isFaulted: false,
    }),
    Task: {
      all: (tasks: FakeTask[]): FakeTask => ({ kind: "all", tasks, isCompleted: false, isFaulted: false }),
      any: (tasks: FakeTask[]): FakeTask => ({
        kind: "any",
        tasks: tasks.filter((t) => t.kind !== "event"),
        events: tasks.filter((t) => t.kind === "event"),
        isCompleted: false,
        isFaulted: false,
      }),
    },
  };
  return { context: { df } as unknown as OrchestrationContext, statuses, continued, df };
}

const tally = (succeeded: number, retry = 0) => ({
  succeeded,
  failed: 0,
  retry,
  realtime: 0,
  audioDurationMs: 1000 * succeeded,
  billableCharacters: 100 * succeeded,
  speechRequests: 1,
});

/** Three batch jobs of two chapters, two at a time. */
function samplePlan(): PlanResult {
  return {
    planBlob: "book/r1/plan.json",
    options: {
      voice: "v",
      outputFormat: "audio-24khz-96kbitrate-mono-mp3",
      mode: "batch",
      maxChaptersPerJob: 2,
      maxConcurrentJobs: 2,
      wordBoundaries: true,
      force: false,
    },
    tuning: {
      maxChapterAttempts: 3,
      maxPayloadBytes: 1_900_000,
      realtimeConcurrency: 4,
      expectedCharsPerSecond: 500,
      pollMinMs: 5000,
      pollMaxMs: 60000,
      jobTimeoutMs: 1000,
    },
    counts: {
      total: 7,
      pending: 6,
      unchanged: 1,
      rejected: 0,
      succeeded: 0,
      failed: 0,
      ignored: 0,
      characters: 600,
      words: 100,
      billableCharacters: 600,
    },
    jobs: [1, 2, 3].map((n) => ({ jobNumber: n, mode: "batch" as const, chapters: 2, characters: 200 })),
  };
}

describe("project orchestrator", () => {
  it("runs maxConcurrentJobs lanes, then a wave of the retries, keeping counters and the manifest", () => {
    const plan = samplePlan();
    const { context, statuses, df } = fakeContext({ projectId: "book", runId: "r1", request: {} });
    const generator = projectOrchestrator(context);
    let step = generator.next();
    const expectActivity = (name: string) => {
      const task = step.value as FakeTask;
      expect(task).toMatchObject({ kind: "activity", name });
      return task;
    };
    expectActivity(PLAN_PROJECT_ACTIVITY);
    step = generator.next(plan);
    expectActivity(WRITE_MANIFEST_ACTIVITY);
    step = generator.next({});

    // First wave, nothing known of the service: both lanes' first jobs submitted at once, job 1 watched.
    const submits = step.value as FakeTask;
    expect(submits.kind).toBe("all");
    expect(submits.tasks?.map((t) => [t.name, (t.input as { jobNumber: number }).jobNumber])).toEqual([
      [SUBMIT_JOB_ACTIVITY, 1],
      [SUBMIT_JOB_ACTIVITY, 2],
    ]);
    step = generator.next(accepted("s1", "s2"));
    const firstPoll = step.value as FakeTask;
    expect(firstPoll.kind).toBe("any");
    expect(firstPoll.tasks?.map((t) => t.kind)).toEqual(["timer"]);
    expect(firstPoll.events?.map((t) => t.name)).toEqual([CANCEL_EVENT]);
    // 200 characters, 5.4 s by the prior: first poll after the 5 s minimum.
    df.currentUtcDateTime = firstPoll.tasks?.[0]?.input as Date;
    expect(df.currentUtcDateTime.toISOString()).toBe("2026-01-01T00:00:05.000Z");
    step = generator.next(firstPoll.tasks?.[0]);
    expect(expectActivity(CHECK_JOB_ACTIVITY).input).toEqual({ synthesisId: "s1" });
    step = generator.next({ status: "Succeeded" });

    // Two lanes: jobs 1 and 3 in one, job 2 in the other; the cancel waiter beside them.
    let any = step.value as FakeTask;
    expect(any.kind).toBe("any");
    let lanes = any.tasks?.[0] as FakeTask;
    expect(lanes.kind).toBe("all");
    expect(lanes.tasks?.map((t) => [t.name, t.instanceId, (t.input as JobInput).next?.length])).toEqual([
      [BATCH_JOB_ORCHESTRATOR, "tts-book:r1:job-1", 1],
      [BATCH_JOB_ORCHESTRATOR, "tts-book:r1:job-2", 0],
    ]);
    // Job 1 is done (its lane collects it at once); job 2 is polled with the rate job 1 measured.
    expect(lanes.tasks?.[0]?.input).toMatchObject({ synthesisId: "s1", serviceDone: true, requests: 2 });
    expect(lanes.tasks?.[1]?.input).toMatchObject({
      synthesisId: "s2",
      requests: 1,
      rate: { low: 40 },
    });
    // …and the first job report's waiter.
    expect(any.events?.map((t) => t.name)).toEqual([CANCEL_EVENT, JOB_FINISHED_EVENT]);
    expect(statuses.at(-1)).toMatchObject({ phase: "synthesizing", jobs: { submitted: 3, running: 2 } });

    // Both lanes done; job 2 left one chapter to retry: planned as job 4, in the next wave.
    const [lane1, lane2] = lanes.tasks as [FakeTask, FakeTask];
    lane1.isCompleted = true;
    lane1.result = [
      { jobNumber: 1, mode: "batch", jobFailed: false, tally: tally(2), requests: 3 },
      { jobNumber: 3, mode: "batch", jobFailed: true, tally: tally(2), requests: 3 },
    ] satisfies JobResult[];
    lane2.isCompleted = true;
    lane2.result = [{ jobNumber: 2, mode: "batch", jobFailed: false, tally: tally(1, 1), requests: 3 }];
    lanes.isCompleted = true;
    step = generator.next(lanes);
    const retries = expectActivity(PLAN_RETRIES_ACTIVITY);
    expect(retries.input).toMatchObject({ jobNumber: 2, nextJobNumber: 4 });
    // Options only: no chapter list in an activity input.
    expect(Object.keys((retries.input as { options: object }).options).sort()).toEqual([
      "maxChaptersPerJob",
      "outputFormat",
      "voice",
      "wordBoundaries",
    ]);
    step = generator.next([{ jobNumber: 4, mode: "batch", chapters: 1, characters: 100 }]);
    expect(expectActivity(WRITE_MANIFEST_ACTIVITY).input).toMatchObject({ jobNumbers: [1, 2, 3] });
    step = generator.next({});

    any = step.value as FakeTask;
    lanes = any.tasks?.[0] as FakeTask;
    expect(lanes.tasks?.map((t) => t.instanceId)).toEqual(["tts-book:r1:job-4"]);
    const job4 = lanes.tasks?.[0] as FakeTask;
    job4.isCompleted = true;
    job4.result = [{ jobNumber: 4, mode: "batch", jobFailed: false, tally: tally(1), requests: 3 }];
    lanes.isCompleted = true;
    step = generator.next(lanes);
    expect(expectActivity(WRITE_MANIFEST_ACTIVITY).input).toMatchObject({ jobNumbers: [4] });
    step = generator.next({});

    const final = expectActivity(WRITE_MANIFEST_ACTIVITY);
    expect(final.input).toMatchObject({
      jobNumbers: [],
      batchJobs: 4,
      billableCharacters: 600,
      speechRequests: 16,
      completedAt: expect.any(String),
    });
    const totals = { chapters: 7, succeeded: 6, failed: 0 };
    step = generator.next(totals);
    expect(step).toEqual({ done: true, value: totals });
    expect(statuses.at(-1)).toMatchObject({
      phase: "completed",
      chapters: { total: 7, succeeded: 6, unchanged: 1, pending: 0 },
      jobs: { submitted: 4, running: 0, succeeded: 3, failed: 1 },
    });
  });

  it("on the cancel event publishes phase cancelled with nothing running, then waits to be terminated", () => {
    const { context, statuses } = fakeContext({ projectId: "book", runId: "r1", request: {} });
    const generator = projectOrchestrator(context);
    generator.next();
    generator.next(samplePlan());
    generator.next({});
    // Cancelled while the first wave's probe waits for its first poll.
    const any = generator.next(accepted("s1", "s2")).value as FakeTask;
    // The one waiter created for the run is offered beside the poll timer.
    expect(any.events?.map((t) => t.name)).toEqual([CANCEL_EVENT]);
    const cancel = any.events?.[0] as FakeTask;
    cancel.isCompleted = true;
    const wait = generator.next(cancel);
    expect(wait.value).toMatchObject({ kind: "timer" });
    expect(statuses.at(-1)).toMatchObject({
      phase: "cancelled",
      jobs: { submitted: 3, running: 0 },
      realtime: { running: 0 },
    });
    expect(generator.next()).toEqual({ done: true, value: undefined });
  });
});

/** A book's run, planned with `plan` and past its planning: its next step submits the first wave. */
function startRun(plan: PlanResult) {
  const fake = fakeContext({ projectId: "book", runId: "r1", request: {} });
  const generator = projectOrchestrator(fake.context);
  generator.next();
  generator.next(plan);
  generator.next({});
  return { ...fake, generator };
}

/** The first wave's submits, all accepted, with these synthesis ids. */
const accepted = (...ids: string[]) =>
  ids.map((synthesisId) => ({ submitted: true, synthesisId, status: "NotStarted" }));

describe("the first-wave probe", () => {
  it("watches the head the service should finish first, and searches its narrow prior in fine steps", () => {
    const plan = samplePlan();
    // Lanes of jobs 1, 3 and of job 2: job 2, the smaller head, ends first at any rate.
    plan.jobs = [
      { jobNumber: 1, mode: "batch", chapters: 2, characters: 300_000 },
      { jobNumber: 2, mode: "batch", chapters: 2, characters: 200_000 },
      { jobNumber: 3, mode: "batch", chapters: 2, characters: 200_000 },
    ];
    // Earlier runs measured 1,000–1,050 chars/s: job 2's window is 190.5–200 s (within 5 %: narrow).
    plan.tuning = { ...plan.tuning, jobTimeoutMs: 3_600_000, priorRate: { low: 1_000, high: 1_050 } };
    const { df, generator } = startRun(plan);
    let step = generator.next(accepted("s1", "s2"));
    const submittedAt = df.currentUtcDateTime.getTime();
    const polls: number[] = [];
    // The service finishes job 2 at 195 s: each poll before that sees it running.
    for (;;) {
      const any = step.value as FakeTask;
      expect(any.kind).toBe("any");
      const timer = any.tasks?.[0] as FakeTask;
      df.currentUtcDateTime = timer.input as Date;
      polls.push(df.currentUtcDateTime.getTime() - submittedAt);
      step = generator.next(timer);
      const check = step.value as FakeTask;
      expect(check).toMatchObject({
        kind: "activity",
        name: CHECK_JOB_ACTIVITY,
        input: { synthesisId: "s2" },
      });
      const done = df.currentUtcDateTime.getTime() - submittedAt >= 195_000;
      step = generator.next({ status: done ? "Succeeded" : "Running" });
      if (done) break;
    }
    // 1 % before the window (188.6 s), then its 11.4 s in equal steps of at least pollMinMs (5 s): seen at most one
    // step late (a job polled only at the window's late end is seen at 200 s).
    expect(polls).toEqual([188_571, 194_286, 200_000]);
    const lanes = (step.value as FakeTask).tasks?.[0] as FakeTask;
    expect(lanes.tasks?.map((t) => (t.input as JobInput).job.jobNumber)).toEqual([1, 2]);
    expect(lanes.tasks?.[1]?.input).toMatchObject({ synthesisId: "s2", serviceDone: true, requests: 4 });
    // Job 1 is checked by its lane with the rate job 2 measured (not the prior).
    expect(lanes.tasks?.[0]?.input).toMatchObject({
      synthesisId: "s1",
      requests: 1,
      rate: { low: 1_000, high: (200_000 / 194_286) * 1000 },
    });
  });
});

describe("the first-wave probe, cold, with the service's own timing", () => {
  it("hands the lanes the bracket the service's duration gives, not its doubling search's", () => {
    const plan = samplePlan();
    plan.jobs = [
      { jobNumber: 1, mode: "batch", chapters: 2, characters: 300_000 },
      { jobNumber: 2, mode: "batch", chapters: 2, characters: 200_000 },
      { jobNumber: 3, mode: "batch", chapters: 2, characters: 200_000 },
    ];
    plan.tuning = { ...plan.tuning, jobTimeoutMs: 3_600_000 };
    const { df, generator } = startRun(plan);
    // The submits take 2 s of orchestration time: the service created the jobs within them.
    df.currentUtcDateTime = new Date(df.currentUtcDateTime.getTime() + 2_000);
    let step = generator.next(accepted("s1", "s2"));
    const submittedAt = df.currentUtcDateTime.getTime();
    const polls: number[] = [];
    for (;;) {
      const timer = (step.value as FakeTask).tasks?.[0] as FakeTask;
      df.currentUtcDateTime = timer.input as Date;
      polls.push(df.currentUtcDateTime.getTime() - submittedAt);
      step = generator.next(timer);
      const done = df.currentUtcDateTime.getTime() - submittedAt >= 200_000;
      // The service says it took 200 s from its creation to its end (lastActionDateTime − createdDateTime).
      step = generator.next(done ? { status: "Succeeded", serviceMs: 200_000 } : { status: "Running" });
      if (done) break;
    }
    // Nothing known: the doubling search sees it 40 s late, a bracket of 120–240 s.
    expect(polls).toEqual([60_000, 120_000, 240_000]);
    const lanes = (step.value as FakeTask).tasks?.[0] as FakeTask;
    // The service's timing narrows it to [198 s, 200 s] after submittedAt, widened by SERVICE_RATE_MARGIN.
    const bracket = endBracket(120_000, 240_000, 200_000, 2_000);
    expect(bracket).toEqual({ unfinishedMs: 198_000 * 0.97, doneMs: 200_000 * 1.03 });
    expect(lanes.tasks?.[0]?.input).toMatchObject({
      synthesisId: "s1",
      submitMs: 2_000,
      rate: { low: (200_000 / (200_000 * 1.03)) * 1000, high: (200_000 / (198_000 * 0.97)) * 1000 },
    });
  });
});

describe("the pilot job", () => {
  it("is watched closely first; done, its collection starts beside the first lane's job, and the probe goes on", () => {
    const plan = samplePlan();
    // Job 1 is the pilot (planning/pilot.ts); lanes of jobs 2, 4 and of job 3.
    plan.jobs = [
      { jobNumber: 1, mode: "batch", chapters: 2, characters: 20_000, pilot: true },
      { jobNumber: 2, mode: "batch", chapters: 2, characters: 200_000 },
      { jobNumber: 3, mode: "batch", chapters: 2, characters: 200_000 },
      { jobNumber: 4, mode: "batch", chapters: 2, characters: 200_000 },
    ];
    plan.tuning = { ...plan.tuning, jobTimeoutMs: 3_600_000, pilotChapters: 2 };
    const { context, df, statuses } = fakeContext({ projectId: "book", runId: "r1", request: {} });
    const generator = projectOrchestrator(context);
    generator.next();
    generator.next(plan);
    let step = generator.next({});
    // The pilot takes the first lane's slot: it and the second lane's head are submitted at once.
    const submits = (step.value as FakeTask).tasks?.map((t) => (t.input as { jobNumber: number }).jobNumber);
    expect(submits).toEqual([1, 3]);
    step = generator.next(accepted("s1", "s3"));
    const submittedAt = df.currentUtcDateTime.getTime();
    /**
     * Fires each poll timer the orchestrator arms (a `Task.any` with the cancel waiter) and answers its check
     * of `synthesisId`: running until `doneMs` after submission, then done. Returns the polls' times.
     */
    const pollUntil = (synthesisId: string, doneMs: number) => {
      const at: number[] = [];
      for (;;) {
        const timer = (step.value as FakeTask).tasks?.[0] as FakeTask;
        df.currentUtcDateTime = timer.input as Date;
        at.push(df.currentUtcDateTime.getTime() - submittedAt);
        step = generator.next(timer);
        expect(step.value).toMatchObject({ name: CHECK_JOB_ACTIVITY, input: { synthesisId } });
        const done = df.currentUtcDateTime.getTime() - submittedAt >= doneMs;
        step = generator.next({ status: done ? "Succeeded" : "Running" });
        if (done) return at;
      }
    };
    // The service finishes the pilot at 22 s.
    const polls = pollUntil("s1", 22_000);
    // Nothing known of pilots: first at a quarter of the default expectation (5 s + 20,000 chars at 500/s),
    // then every pollMinMs (seen at most 5 s late).
    expect(polls).toEqual([11_250, 16_250, 21_250, 26_250]);
    // Its first chapter is stored alone first: the run's first video message does not share the worker
    // with the first lane's submit.
    expect(step.value).toMatchObject({
      name: COLLECT_JOB_ACTIVITY,
      input: { jobNumber: 1, synthesisId: "s1", firstChapterOnly: true },
    });
    expect((step.value as FakeTask).input).not.toHaveProperty("rate");
    step = generator.next(tally(1));
    const both = step.value as FakeTask;
    expect(both.kind).toBe("any");
    const [collect, submitHead] = both.tasks as FakeTask[];
    expect(collect).toMatchObject({
      kind: "sub",
      name: COLLECT_JOB_ORCHESTRATOR,
      instanceId: "tts-book:r1:job-1:collect",
      input: {
        jobNumber: 1,
        synthesisId: "s1",
        pilot: true,
        jobRequests: 5,
        rate: { low: (20_000 / 26_250) * 1000, high: (20_000 / 21_250) * 1000 },
      },
    });
    expect(submitHead).toMatchObject({ name: SUBMIT_JOB_ACTIVITY, input: { jobNumber: 2 } });
    step = generator.next(submitHead);
    expect(step.value).toBe(submitHead);
    const headSubmittedAt = df.currentUtcDateTime.getTime();
    step = generator.next({ submitted: true, synthesisId: "s2", status: "NotStarted" });
    // The pilot's collection ends meanwhile: the probe's next poll counts it in the published progress.
    Object.assign(collect as FakeTask, { isCompleted: true, result: { tally: tally(2), requests: 1 } });
    const before = statuses.length;
    // Then the probe watches job 3 (submitted with the pilot), knowing nothing: the pilot's rate is not a job's.
    const probePolls = pollUntil("s3", 200_000);
    expect(statuses.slice(before)).toHaveLength(1);
    expect(statuses.at(-1)).toMatchObject({ chapters: { succeeded: 2 }, jobs: { succeeded: 1 } });
    expect(probePolls).toEqual([60_000, 120_000, 240_000]);
    const lanes = (step.value as FakeTask).tasks?.[0] as FakeTask;
    expect(lanes.tasks?.map((t) => (t.input as JobInput).job.jobNumber)).toEqual([2, 3]);
    expect(lanes.tasks?.[0]?.input).toMatchObject({
      synthesisId: "s2",
      submittedAt: new Date(headSubmittedAt).toISOString(),
      rate: { low: (200_000 / 240_000) * 1000, high: (200_000 / 120_000) * 1000 },
    });
    const firstLane = lanes.tasks?.[0]?.input as JobInput;
    expect(firstLane.next?.map((j) => j.jobNumber)).toEqual([4]);
    expect(lanes.tasks?.[1]?.input).toMatchObject({ synthesisId: "s3", serviceDone: true });
  });

  it("stores its first chapter alone before the first lane's submit; a failure there only leaves it to the collection", () => {
    const plan = samplePlan();
    plan.jobs = [
      { jobNumber: 1, mode: "batch", chapters: 2, characters: 20_000, pilot: true },
      ...[2, 3].map((n) => ({ jobNumber: n, mode: "batch" as const, chapters: 2, characters: 200_000 })),
    ];
    const { df, generator } = startRun(plan);
    let step = generator.next(accepted("s1", "s3"));
    // The pilot's first poll finds it done.
    const timer = (step.value as FakeTask).tasks?.[0] as FakeTask;
    df.currentUtcDateTime = timer.input as Date;
    step = generator.next(timer);
    step = generator.next({ status: "Succeeded" });
    expect(step.value).toMatchObject({ name: COLLECT_JOB_ACTIVITY, input: { firstChapterOnly: true } });
    step = generator.throw(new Error("Azurite hiccup"));
    const [collect, submitHead] = (step.value as FakeTask).tasks as FakeTask[];
    expect(collect).toMatchObject({ kind: "sub", name: COLLECT_JOB_ORCHESTRATOR, input: { jobNumber: 1 } });
    expect(collect?.input).not.toHaveProperty("firstChapterOnly");
    expect(submitHead).toMatchObject({ name: SUBMIT_JOB_ACTIVITY, input: { jobNumber: 2 } });
  });

  it("goes back to the first lane when its submit fails with the others", () => {
    const plan = samplePlan();
    plan.jobs = [
      { jobNumber: 1, mode: "batch", chapters: 1, characters: 10_000, pilot: true },
      ...[2, 3, 4].map((n) => ({ jobNumber: n, mode: "batch" as const, chapters: 2, characters: 200_000 })),
    ];
    const { generator } = startRun(plan);
    const step = generator.throw(new Error("submit failed"));
    const lanes = (step.value as FakeTask).tasks?.[0] as FakeTask;
    const laneInputs = lanes.tasks?.map((t) => t.input as JobInput);
    expect(laneInputs?.map((i) => [i.job.jobNumber, ...(i.next ?? []).map((j) => j.jobNumber)])).toEqual([
      [1, 2, 4],
      [3],
    ]);
  });
});

describe("batch job orchestrator", () => {
  const tuning = {
    maxChapterAttempts: 3,
    maxPayloadBytes: 1_900_000,
    realtimeConcurrency: 4,
    expectedCharsPerSecond: 500,
    pollMinMs: 5_000,
    pollMaxMs: 60_000,
    jobTimeoutMs: 60_000,
    pollsPerExecution: 40,
  };
  const input = {
    projectId: "book",
    runId: "r1",
    instanceId: "tts-book",
    job: { jobNumber: 3, mode: "batch" as const, chapters: 2, characters: 500 },
    options: { voice: "v", outputFormat: "audio-24khz-96kbitrate-mono-mp3", wordBoundaries: true },
    tuning,
  };

  it("polls on durable timers, and past the deadline abandons the job: chapters retried, job deleted", () => {
    const { context, df } = fakeContext(input);
    const generator = batchJobOrchestrator(context);
    let step = generator.next();
    expect(step.value).toMatchObject({ name: "SubmitBatchJob", input: { jobNumber: 3, attempt: 1 } });
    step = generator.next({ submitted: true, synthesisId: "book-r1-j3-a1", status: "NotStarted" });
    const fireTimes: number[] = [];
    while ((step.value as FakeTask).kind === "timer") {
      const fireAt = (step.value as FakeTask).input as Date;
      fireTimes.push(fireAt.getTime() - df.currentUtcDateTime.getTime());
      df.currentUtcDateTime = fireAt;
      step = generator.next(undefined);
      expect(step.value).toMatchObject({ name: CHECK_JOB_ACTIVITY, input: { synthesisId: "book-r1-j3-a1" } });
      step = generator.next({ status: "Running" });
    }
    // Nothing measured yet: first poll after the 5 s minimum, then doubling the elapsed time, up to the deadline.
    expect(fireTimes).toEqual([5_000, 5_000, 10_000, 20_000, 20_000]);
    expect(step.value).toMatchObject({
      kind: "sub",
      name: COLLECT_JOB_ORCHESTRATOR,
      instanceId: "tts-book:collect", // the fake runs the job under the id tts-book
      input: { synthesisId: "book-r1-j3-a1", jobError: expect.stringContaining("deadline") },
    });
    step = generator.next({ tally: { ...tally(0), retry: 2 }, requests: 1 });
    expect(step.done).toBe(true);
    expect(step.value).toMatchObject([{ jobNumber: 3, jobFailed: true, tally: { retry: 2 }, requests: 7 }]);
  });

  it("polls a first job at the prior's window and hands the rate it measured to collect (the next runs' prior)", () => {
    // An earlier run measured 10–11 chars/s: 500 characters take 45.5–50 s.
    const { context, df } = fakeContext({
      ...input,
      tuning: { ...tuning, priorRate: { low: 10, high: 11 } },
    });
    const generator = batchJobOrchestrator(context);
    let step = generator.next();
    step = generator.next({ submitted: true, synthesisId: "book-r1-j3-a1", status: "NotStarted" });
    const fireTimes: number[] = [];
    const submittedAt = df.currentUtcDateTime.getTime();
    for (const status of ["Running", "Succeeded"]) {
      const fireAt = (step.value as FakeTask).input as Date;
      fireTimes.push(fireAt.getTime() - submittedAt);
      df.currentUtcDateTime = fireAt;
      step = generator.next(undefined);
      expect(step.value).toMatchObject({ name: CHECK_JOB_ACTIVITY });
      step = generator.next({ status });
    }
    // Just before the window (1 % early), then its late end: seen done at 50 s, not after a doubling search.
    expect(fireTimes).toEqual([45_000, 50_000]);
    expect(step.value).toMatchObject({
      kind: "sub",
      name: COLLECT_JOB_ORCHESTRATOR,
      input: { synthesisId: "book-r1-j3-a1", rate: { low: 10, high: 500 / 45 } },
    });
  });

  it("continues as new after its polls per execution, keeping the synthesis id", () => {
    const { context, continued } = fakeContext({ ...input, tuning: { ...tuning, pollsPerExecution: 2 } });
    const generator = batchJobOrchestrator(context);
    let step = generator.next();
    step = generator.next({ submitted: true, synthesisId: "id-1", status: "Running" });
    for (let i = 0; i < 2; i++) {
      expect((step.value as FakeTask).kind).toBe("timer");
      step = generator.next(undefined);
      step = generator.next({ status: "Running" });
    }
    expect(step.done).toBe(true);
    expect(continued).toEqual([
      expect.objectContaining({
        synthesisId: "id-1",
        polls: 2,
        attempt: 1,
        requests: 3,
        unfinishedMs: expect.any(Number),
      }),
    ]);
  });

  it("retries a failing submit after durable timers, then returns a result instead of throwing", () => {
    const { context, df } = fakeContext(input);
    const generator = batchJobOrchestrator(context);
    let step = generator.next();
    const delays: number[] = [];
    for (let attempt = 1; attempt < 4; attempt++) {
      expect(step.value).toMatchObject({ kind: "activity", name: "SubmitBatchJob" });
      step = generator.throw(new Error("Activity function 'SubmitBatchJob' failed: 400 bad request"));
      const timer = step.value as FakeTask;
      expect(timer.kind).toBe("timer");
      delays.push((timer.input as Date).getTime() - df.currentUtcDateTime.getTime());
      step = generator.next(undefined);
    }
    expect(delays).toEqual([5_000, 10_000, 20_000]);
    step = generator.throw(new Error("Activity function 'SubmitBatchJob' failed: 400 bad request"));
    expect(step.value).toMatchObject({
      name: COLLECT_JOB_ORCHESTRATOR,
      input: { jobError: "The batch job could not be run: 400 bad request", synthesisId: "" },
    });
    step = generator.next({ tally: { ...tally(0), retry: 2 }, requests: 0 });
    expect(step).toMatchObject({ done: true, value: [{ jobFailed: true, tally: { retry: 2 } }] });
  });

  it("collects a finished job, deletes it at the service, then reports the whole job to the run", () => {
    const { context } = fakeContext({
      projectId: "book",
      runId: "r1",
      jobNumber: 3,
      instanceId: "tts-book",
      synthesisId: "s3",
      options: input.options,
      maxAttempts: 3,
      jobRequests: 4,
    });
    const generator = collectJobOrchestrator(context);
    let step = generator.next();
    expect(step.value).toMatchObject({ name: COLLECT_JOB_ACTIVITY, input: { synthesisId: "s3" } });
    step = generator.next(tally(2));
    expect(step.value).toMatchObject({ name: DELETE_JOB_ACTIVITY, input: { synthesisId: "s3" } });
    step = generator.next(undefined);
    expect(step.value).toMatchObject({
      name: REPORT_JOB_ACTIVITY,
      input: {
        instanceId: "tts-book",
        runId: "r1",
        result: { jobNumber: 3, mode: "batch", jobFailed: false, tally: tally(2), requests: 4 + 1 },
      },
    });
    step = generator.next("raised");
    expect(step).toEqual({ done: true, value: { tally: tally(2), requests: 1 } });
  });
});
