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
