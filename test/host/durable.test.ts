import path from "node:path";
import { fileURLToPath } from "node:url";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningLocalHost, startLocalHost } from "../../tools/local-host/index.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { uniqueName } from "../support/names.js";

const appDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "apps/durable");
const webhook = "/runtime/webhooks/durabletask";

let host: RunningLocalHost;
let connectionString: string;
const queueName = uniqueName("videos");
const triggerQueueName = uniqueName("starts");

interface Status {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Array<Record<string, unknown>>;
}

beforeAll(async () => {
  connectionString = inject("azuriteConnectionString");
  host = await startLocalHost({
    appDir,
    port: 0,
    env: {
      AzureWebJobsStorage: connectionString,
      FIXTURE_QUEUE: queueName,
      FIXTURE_TRIGGER_QUEUE: triggerQueueName,
    },
    taskHub: uniqueName("hub"),
    // An hour of orchestration time per real second: minute-long retry intervals and timers take milliseconds.
    timeScale: 3600,
  });
});

afterAll(async () => {
  await host?.stop();
});

async function start(name: string, input: unknown, id = uniqueName(name.toLowerCase())): Promise<Response> {
  return fetch(`${host.url}/api/start/${name}/${id}`, { method: "POST", body: JSON.stringify(input) });
}

async function status(id: string, query = ""): Promise<{ code: number; body: Status }> {
  const response = await fetch(`${host.url}${webhook}/instances/${id}${query}`);
  const text = await response.text();
  return { code: response.status, body: (text ? JSON.parse(text) : undefined) as Status };
}

async function finished(id: string, query = ""): Promise<Status> {
  return waitFor(
    async () => {
      const { code, body } = await status(id, query);
      return code === 200 ? body : undefined;
    },
    { timeoutMs: 60_000, description: `instance ${id} to finish` },
  );
}

async function run(name: string, input: unknown, query = ""): Promise<Status> {
  const id = uniqueName(name.toLowerCase());
  const response = await start(name, input, id);
  expect(response.status).toBe(202);
  return finished(id, query);
}

describe("local host: orchestrations on the real durable-functions replay", () => {
  it("fans out 500 activities and fans in every result", async () => {
    const done = await run("FanOut", { count: 500 });
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toEqual({ count: 500, sum: 2 * ((499 * 500) / 2) });
  });

  it("serves an HTTP starter whose statusQueryGetUri is polled until Completed", async () => {
    const response = await start("FanOut", { count: 3 });
    expect(response.status).toBe(202);
    const payload = (await response.json()) as Record<string, string>;
    const location = response.headers.get("location");
    expect(location).toBe(payload.statusQueryGetUri);
    for (const key of [
      "id",
      "sendEventPostUri",
      "terminatePostUri",
      "purgeHistoryDeleteUri",
      "suspendPostUri",
    ]) {
      expect(payload[key]).toBeTruthy();
    }
    const url = payload.statusQueryGetUri as string;
    const final = await waitFor(
      async () => {
        const poll = await fetch(url);
        if (poll.status === 202) {
          expect(poll.headers.get("location")).toBeTruthy();
          expect(poll.headers.get("retry-after")).toBeTruthy();
          return undefined;
        }
        expect(poll.status).toBe(200);
        return (await poll.json()) as Status;
      },
      { description: "the status URL to report completion" },
    );
    expect(final.runtimeStatus).toBe("Completed");
    expect(final.output).toEqual({ count: 3, sum: 6 });
    expect(final.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("retries a failing activity on durable timers, then succeeds", async () => {
    const done = await run("RetryThenSucceed", { key: uniqueName("k"), failTimes: 2 }, "?showHistory=true");
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toEqual({ attempt: 3 });
    const types = (done.historyEvents ?? []).map((e) => e.EventType);
    expect(types.filter((t) => t === "TaskFailed")).toHaveLength(2);
    expect(types.filter((t) => t === "TimerFired")).toHaveLength(2);
    expect(types.filter((t) => t === "TaskCompleted")).toHaveLength(1);
  });

  it("fails the instance with the reason once retries are exhausted", async () => {
    const done = await run("RetryExhausted", null, "?showHistory=true");
    expect(done.runtimeStatus).toBe("Failed");
    expect(String(done.output)).toContain("Activity function 'AlwaysFails' failed: cannot do the impossible");
    const types = (done.historyEvents ?? []).map((e) => e.EventType);
    expect(types.filter((t) => t === "TaskFailed")).toHaveLength(3);
    // DTFx creates a timer after the last failure too, and the task fails when it fires.
    expect(types.filter((t) => t === "TimerFired")).toHaveLength(3);
  });

  it("runs a polling loop on durable timers with continueAsNew, keeping history short", async () => {
    const done = await run("PollLoop", { max: 5 }, "?showHistory=true");
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toMatchObject({ iterations: 5, total: 0 + 1 + 2 + 3 + 4 });
    // Five 5-minute timers: currentUtcDateTime moved at least 25 minutes on the scaled clock.
    expect((done.output as { atLeastMinutes: number }).atLeastMinutes).toBeGreaterThanOrEqual(25);
    // Only the last execution's history remains.
    const executions = (done.historyEvents ?? []).filter((e) => e.EventType === "ExecutionStarted");
    expect(executions).toHaveLength(1);
    expect(done.input).toMatchObject({ iteration: 4 });
  });

  it("runs sub-orchestrations with explicit ids and reports their failures to the parent", async () => {
    const parentId = uniqueName("parent");
    expect((await start("Parent", { children: 3, count: 10 }, parentId)).status).toBe(202);
    const done = await finished(parentId);
    expect(done.output).toEqual({ children: 3, sum: 3 * 90 });
    const child = await status(`${parentId}-child1`);
    expect(child.code).toBe(200);
    expect(child.body.runtimeStatus).toBe("Completed");

    const failing = await run("ParentOfFailing", null);
    expect(failing.runtimeStatus).toBe("Completed");
    expect((failing.output as { caught: string }).caught).toContain("child broke");
  });

  it("retries a failed sub-orchestration under the same instance id", async () => {
    const done = await run("ParentRetriesChild", null, "?showHistory=true");
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toEqual({ attempt: 2 });
    const types = (done.historyEvents ?? []).map((e) => e.EventType);
    expect(types.filter((t) => t === "SubOrchestrationInstanceFailed")).toHaveLength(1);
    expect(types.filter((t) => t === "SubOrchestrationInstanceCompleted")).toHaveLength(1);
    const child = await status(`${done.instanceId}-child`);
    expect(child.body.runtimeStatus).toBe("Completed");
  });

  it("terminates a running instance", async () => {
    const id = uniqueName("long");
    await start("LongWait", null, id);
    await waitFor(async () => (await status(id)).body?.runtimeStatus === "Running");
    const terminate = await fetch(`${host.url}${webhook}/instances/${id}/terminate?reason=enough`, {
      method: "POST",
    });
    expect(terminate.status).toBe(202);
    const done = await finished(id);
    expect(done.runtimeStatus).toBe("Terminated");
    expect(done.output).toBe("enough");
    const again = await fetch(`${host.url}${webhook}/instances/${id}/terminate?reason=again`, {
      method: "POST",
    });
    expect(again.status).toBe(410);
  });

  it("delivers a raised event through sendEventPostUri, and holds events while suspended", async () => {
    const response = await start("WaitForApproval", null);
    const payload = (await response.json()) as Record<string, string>;
    const id = payload.id as string;
    await waitFor(
      async () => ((await status(id)).body?.customStatus as { stage?: string })?.stage === "waiting",
    );

    const suspend = await fetch(payload.suspendPostUri?.replace("{text}", "pause") as string, {
      method: "POST",
    });
    expect(suspend.status).toBe(202);
    await waitFor(async () => (await status(id)).body?.runtimeStatus === "Suspended");
    const raise = await fetch((payload.sendEventPostUri as string).replace("{eventName}", "Approval"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ by: "editor" }),
    });
    expect(raise.status).toBe(202);
    expect((await status(id)).body.runtimeStatus).toBe("Suspended");

    const resume = await fetch(payload.resumePostUri?.replace("{text}", "go") as string, { method: "POST" });
    expect(resume.status).toBe(202);
    const done = await finished(id);
    expect(done.output).toEqual({ approved: { by: "editor" } });
    expect(done.customStatus).toEqual({ stage: "approved" });
  });

  it("raises an event through DurableClient.raiseEvent", async () => {
    const id = uniqueName("approve");
    await start("WaitForApproval", null, id);
    await waitFor(async () => (await status(id)).body?.runtimeStatus === "Running");
    const raised = await fetch(`${host.url}/api/event/${id}/Approval`, {
      method: "POST",
      body: JSON.stringify("yes"),
    });
    expect(raised.status).toBe(202);
    expect((await finished(id)).output).toEqual({ approved: "yes" });
  });

  it("fails an instance whose replay no longer matches its history (non-determinism)", async () => {
    const done = await run("NonDeterministic", null);
    expect(done.runtimeStatus).toBe("Failed");
    expect(String(done.output)).toContain("Non-Deterministic workflow detected");
    expect(String(done.output)).toContain("'StepA'");
  });

  it("passes inputs and results with their JSON types", async () => {
    const done = await run("InputTypes", "42");
    expect(done.input).toBe("42");
    expect(done.output).toEqual([
      { type: "string", input: "42" },
      { type: "string", input: "123" },
      { type: "string", input: "plain" },
      { type: "number", input: 7 },
      { type: "object", input: { a: [1, "b"] } },
      { type: "object", input: null },
    ]);
  });

  it("keeps payloads larger than a table property in blobs", async () => {
    const text = "a chapter of text, ".repeat(6000);
    const done = await run("BigPayload", text);
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.input).toBe(text);
    expect(done.output).toEqual({ length: text.length, reversed: [...text].reverse().join("") });
    const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(
      `${host.taskHub.toLowerCase()}-largemessages`,
    );
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names.some((n) => n.startsWith(done.instanceId))).toBe(true);
  });

  it("answers the durable client: status, 404 for unknown ids, conflict for a running id, purge", async () => {
    const id = uniqueName("client");
    await start("LongWait", null, id);
    const viaClient = await fetch(`${host.url}/api/status/${id}`);
    expect(((await viaClient.json()) as Status).instanceId).toBe(id);
    expect((await start("LongWait", null, id)).status).toBe(500);
    const direct = await fetch(`${host.url}/durabletask/orchestrators/LongWait/${id}`, { method: "POST" });
    expect(direct.status).toBe(500);
    expect(((await direct.json()) as { ExceptionMessage: string }).ExceptionMessage).toBe(
      "An Orchestration instance with the status Running already exists.",
    );
    const unknown = await fetch(`${host.url}/durabletask/orchestrators/NoSuchThing`, { method: "POST" });
    expect(unknown.status).toBe(400);
    expect((await status(uniqueName("nobody"))).code).toBe(404);

    await fetch(`${host.url}${webhook}/instances/${id}/terminate?reason=x`, { method: "POST" });
    await finished(id);
    const purge = await fetch(`${host.url}${webhook}/instances/${id}`, { method: "DELETE" });
    expect(await purge.json()).toEqual({ instancesDeleted: 1 });
    expect((await status(id)).code).toBe(404);
  });

  it("lists instances page by page with x-ms-continuation-token", async () => {
    const first = await fetch(`${host.url}/durabletask/instances?top=2&runtimeStatus=Completed`);
    const token = first.headers.get("x-ms-continuation-token");
    expect(first.status).toBe(200);
    expect(((await first.json()) as unknown[]).length).toBe(2);
    expect(token).toBeTruthy();
    const second = await fetch(`${host.url}/durabletask/instances?top=2&runtimeStatus=Completed`, {
      headers: { "x-ms-continuation-token": token as string },
    });
    expect(((await second.json()) as unknown[]).length).toBeGreaterThan(0);
  });
});

describe("local host: HTTP functions, bindings and hooks", () => {
  it("writes storage queue (base64) and blob outputs", async () => {
    const response = await fetch(`${host.url}/api/outputs/chapter7`, {
      method: "POST",
      body: JSON.stringify({ chapter: 7, title: "The Fool & <friends>" }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ ok: true, name: "chapter7" });
    const queue = new QueueClient(connectionString, queueName);
    const { receivedMessageItems } = await queue.receiveMessages();
    const text = Buffer.from(receivedMessageItems[0]?.messageText ?? "", "base64").toString("utf8");
    expect(JSON.parse(text)).toEqual({ chapter: 7, title: "The Fool & <friends>" });
    const blob = BlobServiceClient.fromConnectionString(connectionString)
      .getContainerClient("fixture-out")
      .getBlockBlobClient("chapter7.json");
    expect(JSON.parse((await blob.downloadToBuffer()).toString())).toEqual({
      chapter: 7,
      title: "The Fool & <friends>",
    });
  });

  it("runs a storage queue trigger (base64 message) whose durable client starts an orchestration", async () => {
    const queue = new QueueClient(connectionString, triggerQueueName);
    await queue.createIfNotExists();
    const id = uniqueName("fromqueue");
    await queue.sendMessage(Buffer.from(JSON.stringify({ id, count: 4 })).toString("base64"));
    const done = await finished(id);
    expect(done.output).toEqual({ count: 4, sum: 12 });
  });

  it("runs app hooks and answers 404/405 like the host", async () => {
    const hooks = (await (await fetch(`${host.url}/api/hooks`)).json()) as Record<string, number>;
    expect(hooks.appStart).toBe(1);
    expect(hooks.pre).toBeGreaterThan(0);
    expect(hooks.post).toBeGreaterThan(0);
    expect(hooks.userLogs).toBeGreaterThan(0);
    expect((await fetch(`${host.url}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/hooks`, { method: "DELETE" })).status).toBe(405);
  });

  it("refuses to start an app with an unknown binding type, naming the function", async () => {
    const bad = path.join(path.dirname(appDir), "bad-binding");
    await expect(
      startLocalHost({
        appDir: bad,
        port: 0,
        storageConnectionString: connectionString,
        taskHub: uniqueName("hub"),
      }),
    ).rejects.toThrow(/Function "ReadsKafka" uses the trigger type "kafkaTrigger"/);
  });
});

describe("local host: long timers on a fast clock", () => {
  it("chains 3-day timers for a 7-day timer and wakes after its fire time", async () => {
    // A second host for the same app in this process, with a clock 100,000 times faster (a day in 0.9 s, so
    // an episode's latency stays hours of virtual time).
    const fast = await startLocalHost({
      appDir,
      port: 0,
      env: {
        AzureWebJobsStorage: connectionString,
        FIXTURE_QUEUE: queueName,
        FIXTURE_TRIGGER_QUEUE: triggerQueueName,
      },
      taskHub: uniqueName("hub"),
      timeScale: 100_000,
    });
    try {
      const id = uniqueName("week");
      const started = await fetch(`${fast.url}/durabletask/orchestrators/SevenDays/${id}`, {
        method: "POST",
      });
      expect(started.status).toBe(202);
      const done = await waitFor(async () => {
        const response = await fetch(`${fast.url}${webhook}/instances/${id}?showHistory=true`);
        return response.status === 200 ? ((await response.json()) as Status) : undefined;
      });
      expect(done.output).toEqual({ lateEnough: true });
      const timers = (done.historyEvents ?? []).filter((e) => e.EventType === "TimerFired");
      // 7 days > the 6-day maximum: the extension's CreateTimer loop schedules 3-day intervals while at least
      // 3 days remain, then the rest (3 + 3 + 1 days), whatever intervals the SDK itself expects.
      expect(timers).toHaveLength(3);
      // Each interval starts when the last one fired (plus the episode's latency on the scaled clock: hours).
      const days = timers
        .slice(1)
        .map((e, i) =>
          Math.round((Date.parse(String(e.FireAt)) - Date.parse(String(timers[i]?.FireAt))) / 86_400_000),
        );
      expect(days).toEqual([3, 1]);
    } finally {
      await fast.stop();
    }
  });
});
