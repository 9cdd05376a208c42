import * as df from "durable-functions";

df.app.activity("Double", { handler: (n) => n * 2 });

df.app.orchestration("FanOut", function* (context) {
  const { count } = context.df.getInput();
  const tasks = [];
  for (let i = 0; i < count; i++) tasks.push(context.df.callActivity("Double", i));
  const results = yield context.df.Task.all(tasks);
  return { count: results.length, sum: results.reduce((a, b) => a + b, 0) };
});

// Fails `failTimes` times per key, then succeeds (attempts are counted in memory per key).
const attempts = new Map();
df.app.activity("Flaky", {
  handler: ({ key, failTimes }) => {
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    if (attempt <= failTimes) throw new Error(`flaky failure ${attempt}`);
    return { attempt };
  },
});
df.app.activity("AlwaysFails", {
  handler: (what) => {
    throw new Error(`cannot do ${what}`);
  },
});

df.app.orchestration("RetryThenSucceed", function* (context) {
  const retry = new df.RetryOptions(60_000, 5);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 120_000;
  return yield context.df.callActivityWithRetry("Flaky", retry, context.df.getInput());
});

df.app.orchestration("RetryExhausted", function* (context) {
  const retry = new df.RetryOptions(30_000, 3);
  return yield context.df.callActivityWithRetry("AlwaysFails", retry, "the impossible");
});

df.app.activity("Tick", { handler: (iteration) => iteration });

// A polling loop on durable timers that keeps its history short with continueAsNew.
df.app.orchestration("PollLoop", function* (context) {
  const {
    iteration = 0,
    max,
    total = 0,
    startedAt = context.df.currentUtcDateTime.toISOString(),
  } = context.df.getInput();
  const seen = yield context.df.callActivity("Tick", iteration);
  const next = new Date(context.df.currentUtcDateTime.getTime() + 5 * 60_000);
  yield context.df.createTimer(next);
  // After the timer, orchestration time has passed its fire time (the host's clock is scaled, not skipped).
  if (context.df.currentUtcDateTime < next) throw new Error("timer fired before its time");
  if (iteration + 1 < max) {
    context.df.continueAsNew({ iteration: iteration + 1, max, total: total + seen, startedAt });
    return undefined;
  }
  const minutes = (context.df.currentUtcDateTime.getTime() - new Date(startedAt).getTime()) / 60_000;
  return { iterations: iteration + 1, total: total + seen, atLeastMinutes: Math.floor(minutes / 5) * 5 };
});

df.app.orchestration("Parent", function* (context) {
  const { children, count } = context.df.getInput();
  const tasks = [];
  for (let k = 0; k < children; k++) {
    tasks.push(context.df.callSubOrchestrator("FanOut", { count }, `${context.df.instanceId}-child${k}`));
  }
  const results = yield context.df.Task.all(tasks);
  return { children: results.length, sum: results.reduce((a, r) => a + r.sum, 0) };
});

df.app.orchestration("FailingChild", function* (context) {
  yield context.df.callActivity("Tick", 0);
  throw new Error("child broke");
});
df.app.orchestration("ParentOfFailing", function* (context) {
  try {
    yield context.df.callSubOrchestrator("FailingChild", null, `${context.df.instanceId}-child`);
    return "unexpected";
  } catch (error) {
    return { caught: error.message };
  }
});

df.app.orchestration("WaitForApproval", function* (context) {
  context.df.setCustomStatus({ stage: "waiting" });
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + 24 * 3600_000);
  const timeout = context.df.createTimer(deadline);
  const approval = context.df.waitForExternalEvent("Approval");
  const winner = yield context.df.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    context.df.setCustomStatus({ stage: "approved" });
    return { approved: approval.result };
  }
  return { approved: false };
});

df.app.orchestration("LongWait", function* (context) {
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 30 * 24 * 3600_000));
  return "woke up";
});

// Changes what it schedules between replays of the same instance (what a code change does).
const replays = new Map();
df.app.activity("StepA", { handler: () => "a" });
df.app.activity("StepB", { handler: () => "b" });
df.app.orchestration("NonDeterministic", function* (context) {
  const seen = (replays.get(context.df.instanceId) ?? 0) + 1;
  replays.set(context.df.instanceId, seen);
  yield context.df.callActivity(seen === 1 ? "StepA" : "StepB");
  yield context.df.callActivity("StepA");
  return "done";
});

// Large payloads (over the table limit) travel through blobs: input, activity result and output.
df.app.activity("Reverse", { handler: (text) => [...text].reverse().join("") });
df.app.orchestration("BigPayload", function* (context) {
  const text = context.df.getInput();
  const reversed = yield context.df.callActivity("Reverse", text);
  return { length: reversed.length, reversed };
});

// A child that fails on its first run; the parent retries it under the same explicit instance id.
df.app.orchestration("FlakyChild", function* (context) {
  return yield context.df.callActivity("Flaky", context.df.getInput());
});
df.app.orchestration("ParentRetriesChild", function* (context) {
  const retry = new df.RetryOptions(60_000, 3);
  const input = { key: context.df.instanceId, failTimes: 1 };
  return yield context.df.callSubOrchestratorWithRetry(
    "FlakyChild",
    retry,
    input,
    `${context.df.instanceId}-child`,
  );
});

// Longer than the 6-day maximum of one Azure Storage timer: the SDK chains 3-day timers (schema V3).
df.app.orchestration("SevenDays", function* (context) {
  const fireAt = new Date(context.df.currentUtcDateTime.getTime() + 7 * 24 * 3600_000);
  yield context.df.createTimer(fireAt);
  return { lateEnough: context.df.currentUtcDateTime >= fireAt };
});

// Inputs keep their JSON types end to end (the SDK pre-stringifies string activity inputs).
df.app.activity("Describe", { handler: (input) => ({ type: typeof input, input }) });
df.app.orchestration("InputTypes", function* (context) {
  const results = [];
  for (const value of [context.df.getInput(), "123", "plain", 7, { a: [1, "b"] }, null]) {
    results.push(yield context.df.callActivity("Describe", value));
  }
  return results;
});
