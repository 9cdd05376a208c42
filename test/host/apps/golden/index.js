import { app } from "@azure/functions";
import * as df from "durable-functions";

// Patterns whose scheduling the host must reproduce as the Durable extension runs them on Azure.

/** How many times each (run, item) activity ran: the extension re-schedules running tasks in a new Task.any. */
const runs = new Map();

df.app.activity("CountedWork", {
  handler: async ({ run, item }) => {
    const key = `${run}/${item}`;
    runs.set(key, (runs.get(key) ?? 0) + 1);
    // Item 0 finishes first, so the second window always re-sends item 1 while it is still running.
    await new Promise((resolve) => setTimeout(resolve, item === 0 ? 0 : 200));
    return item;
  },
});

// A Task.any window of 2 over 4 activities, refilled as each finishes (the pattern CONTRACT forbids).
df.app.orchestration("SlidingWindow", function* (context) {
  const run = context.df.instanceId;
  const call = (item) => context.df.callActivity("CountedWork", { run, item });
  const pending = [call(0), call(1)];
  let next = 2;
  while (pending.length > 0) {
    const winner = yield context.df.Task.any(pending);
    pending.splice(pending.indexOf(winner), 1);
    if (next < 4) pending.push(call(next++));
  }
  return "done";
});

app.http("Runs", {
  route: "runs/{run}",
  methods: ["GET"],
  handler: async (request) => {
    const prefix = `${request.params.run}/`;
    const counts = {};
    for (const [key, count] of runs) if (key.startsWith(prefix)) counts[key.slice(prefix.length)] = count;
    return { jsonBody: counts };
  },
});

// A child that waits for "go"; two parents start it under one instance id.
df.app.orchestration("WaitingChild", function* (context) {
  const value = yield context.df.waitForExternalEvent("go");
  return { value, input: context.df.getInput() };
});

df.app.orchestration("ParentOfChild", function* (context) {
  const { childId, tag } = context.df.getInput();
  try {
    return { child: yield context.df.callSubOrchestrator("WaitingChild", tag, childId) };
  } catch (error) {
    return { failed: String(error) };
  }
});

// Counts down through continueAsNew; at zero it reports whether an event reached it within ten minutes.
df.app.orchestration("Countdown", function* (context) {
  const n = context.df.getInput();
  if (n > 0) {
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 60_000));
    context.df.continueAsNew(n - 1);
    return undefined;
  }
  const timeout = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 10 * 60_000));
  const ping = context.df.waitForExternalEvent("ping");
  const winner = yield context.df.Task.any([ping, timeout]);
  if (winner === ping) {
    timeout.cancel();
    return { pinged: ping.result };
  }
  return { pinged: false };
});

// A Task.any window of 2 over 3 waiting children (ids `<instance>-c<i>`): the second window re-sends a running one.
df.app.orchestration("SubWindow", function* (context) {
  const call = (i) => context.df.callSubOrchestrator("WaitingChild", i, `${context.df.instanceId}-c${i}`);
  const pending = [call(0), call(1)];
  let next = 2;
  while (pending.length > 0) {
    const winner = yield context.df.Task.any(pending);
    pending.splice(pending.indexOf(winner), 1);
    if (next < 3) pending.push(call(next++));
  }
  return "done";
});
