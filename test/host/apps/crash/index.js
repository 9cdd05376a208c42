import { setTimeout as sleep } from "node:timers/promises";
import * as df from "durable-functions";

// Slow enough that a kill lands in the middle of the fan-out.
df.app.activity("SlowIdentity", {
  handler: async (i) => {
    await sleep(Number(process.env.CRASH_ACTIVITY_MS ?? "25"));
    return i;
  },
});

df.app.orchestration("CrashFanOut", function* (context) {
  const { count } = context.df.getInput();
  const tasks = [];
  for (let i = 0; i < count; i++) tasks.push(context.df.callActivity("SlowIdentity", i));
  const results = yield context.df.Task.all(tasks);
  return { count: results.length, distinct: new Set(results).size, sum: results.reduce((a, b) => a + b, 0) };
});

df.app.client.http("StartCrash", {
  route: "crash/{id}",
  methods: ["POST"],
  handler: async (request, client) => {
    const instanceId = await client.startNew("CrashFanOut", {
      input: await request.json(),
      instanceId: request.params.id,
    });
    return client.createCheckStatusResponse(request, instanceId);
  },
});

// Sub-orchestrations that end with a durable timer, to resume children and timers after a crash too.
df.app.orchestration("CrashBatch", function* (context) {
  const { from, count } = context.df.getInput();
  const tasks = [];
  for (let i = from; i < from + count; i++) tasks.push(context.df.callActivity("SlowIdentity", i));
  const results = yield context.df.Task.all(tasks);
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 10 * 60_000));
  return results;
});

df.app.orchestration("CrashParent", function* (context) {
  const { batches, size } = context.df.getInput();
  const tasks = [];
  for (let k = 0; k < batches; k++) {
    tasks.push(
      context.df.callSubOrchestrator(
        "CrashBatch",
        { from: k * size, count: size },
        `${context.df.instanceId}-b${k}`,
      ),
    );
  }
  const results = (yield context.df.Task.all(tasks)).flat();
  return { count: results.length, distinct: new Set(results).size, sum: results.reduce((a, b) => a + b, 0) };
});

df.app.client.http("StartCrashParent", {
  route: "crash-parent/{id}",
  methods: ["POST"],
  handler: async (request, client) => {
    const instanceId = await client.startNew("CrashParent", {
      input: await request.json(),
      instanceId: request.params.id,
    });
    return client.createCheckStatusResponse(request, instanceId);
  },
});
