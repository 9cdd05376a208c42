import { app, output } from "@azure/functions";
import * as df from "durable-functions";

// Starts any orchestrator: POST /api/start/{name}/{id?} with the JSON input as body.
df.app.client.http("StartOrchestration", {
  route: "start/{name}/{id?}",
  methods: ["POST"],
  authLevel: "function",
  handler: async (request, client, context) => {
    const text = await request.text();
    const input = text === "" ? undefined : JSON.parse(text);
    const instanceId = await client.startNew(request.params.name, { input, instanceId: request.params.id });
    context.log(`Started ${instanceId}`);
    return client.createCheckStatusResponse(request, instanceId);
  },
});

// Raises an event through the durable client: POST /api/event/{id}/{name}.
df.app.client.http("RaiseEvent", {
  route: "event/{id}/{name}",
  methods: ["POST"],
  handler: async (request, client) => {
    await client.raiseEvent(request.params.id, request.params.name, await request.json());
    return { status: 202 };
  },
});

// Reads a status through the durable client: GET /api/status/{id}.
df.app.client.http("ClientStatus", {
  route: "status/{id}",
  methods: ["GET"],
  handler: async (request, client) => {
    const status = await client.getStatus(request.params.id);
    return { jsonBody: status };
  },
});

const videoQueue = output.storageQueue({ queueName: "%FIXTURE_QUEUE%", connection: "AzureWebJobsStorage" });
const blobOut = output.storageBlob({ path: "fixture-out/{name}.json", connection: "AzureWebJobsStorage" });

// Output bindings: POST /api/outputs/{name} writes the body to a queue message and a blob.
app.http("Outputs", {
  route: "outputs/{name}",
  methods: ["POST"],
  authLevel: "anonymous",
  extraOutputs: [videoQueue, blobOut],
  handler: async (request, context) => {
    const body = await request.json();
    context.extraOutputs.set(videoQueue, body);
    context.extraOutputs.set(blobOut, JSON.stringify(body));
    return { status: 201, jsonBody: { ok: true, name: request.params.name } };
  },
});

// Hooks count invocations; GET /api/hooks reports them.
const hookCounts = { pre: 0, post: 0, appStart: 0, userLogs: 0 };
app.hook.log((context) => {
  if (context.category === "user") hookCounts.userLogs++;
});
app.hook.appStart(() => {
  hookCounts.appStart++;
});
app.hook.preInvocation(() => {
  hookCounts.pre++;
});
app.hook.postInvocation(() => {
  hookCounts.post++;
});
app.http("Hooks", {
  route: "hooks",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: async () => ({ jsonBody: hookCounts }),
});

// A storage queue trigger with a durable client: each message starts a fan-out with the given id.
df.app.client.storageQueue("StartFromQueue", {
  queueName: "%FIXTURE_TRIGGER_QUEUE%",
  connection: "AzureWebJobsStorage",
  handler: async (message, client) => {
    await client.startNew("FanOut", { input: { count: message.count }, instanceId: message.id });
  },
});
