import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningLocalHost, startLocalHost } from "../../tools/local-host/index.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { uniqueName } from "../support/names.js";

// The engine end to end (real durable-functions replay, in-memory store): what the action-list scheduling
// does to patterns the Durable extension runs badly on Azure. Golden ids are in golden.test.ts.

const appDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "apps/golden");
const webhook = "/runtime/webhooks/durabletask";
let host: RunningLocalHost;

interface Status {
  runtimeStatus: string;
  input?: unknown;
  output: unknown;
  historyEvents?: Array<Record<string, unknown>>;
}

beforeAll(async () => {
  host = await startLocalHost({ appDir, port: 0, durableStore: "memory", taskHub: uniqueName("hub") });
});

afterAll(async () => {
  await host?.stop();
});

async function start(name: string, id: string, input: unknown): Promise<void> {
  const response = await fetch(`${host.url}${webhook}/orchestrators/${name}/${id}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(input),
  });
  expect(response.status).toBe(202);
}

async function status(id: string): Promise<Status | undefined> {
  const response = await fetch(`${host.url}${webhook}/instances/${id}?showHistory=true`);
  return response.status === 404 ? undefined : ((await response.json()) as Status);
}

const types = (s: Status | undefined) => (s?.historyEvents ?? []).map((e) => e.EventType);

describe("local host: scheduling from the action list", () => {
  it("runs an activity again when a sliding Task.any window re-sends it (as the extension does)", async () => {
    const id = uniqueName("window");
    await start("SlidingWindow", id, null);
    const counts = await waitFor(
      async () => {
        const runs = (await (await fetch(`${host.url}/api/runs/${id}`)).json()) as Record<string, number>;
        const total = Object.values(runs).reduce((a, b) => a + b, 0);
        return total > 4 ? runs : undefined;
      },
      { timeoutMs: 30_000, description: "an activity of the window to run twice" },
    );
    // One item of the first window ran again: the second WhenAny re-sent it while it was running.
    expect(Math.max(...Object.values(counts))).toBeGreaterThanOrEqual(2);
    await fetch(`${host.url}${webhook}/instances/${id}/terminate?reason=cleanup`, { method: "POST" });
  });

  it("overwrites a running sub-orchestration started again under its id: the first parent waits for ever", async () => {
    const childId = uniqueName("child");
    const first = uniqueName("parent");
    const second = uniqueName("parent");
    await start("ParentOfChild", first, { childId, tag: "first" });
    await waitFor(async () => (await status(childId))?.runtimeStatus === "Running", {
      description: "the child to run for the first parent",
    });
    const overwritten = host.stats().runningSubOrchestrationsOverwritten;
    await start("ParentOfChild", second, { childId, tag: "second" });
    // Azure Storage has no de-dupe for sub-orchestration starts: a new execution replaces the running one.
    await waitFor(async () => (await status(childId))?.input === "second", {
      description: "the child to be restarted for the second parent",
    });
    expect(host.stats().runningSubOrchestrationsOverwritten).toBe(overwritten + 1);

    const raised = await fetch(`${host.url}${webhook}/instances/${childId}/raiseEvent/go`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify("now"),
    });
    expect(raised.status).toBe(202);
    const secondDone = await waitFor(async () => {
      const s = await status(second);
      return s?.runtimeStatus === "Completed" ? s : undefined;
    });
    expect(secondDone.output).toEqual({ child: { value: "now", input: "second" } });
    const child = await status(childId);
    expect(types(child).filter((t) => t === "ExecutionStarted")).toHaveLength(1);

    // The first parent's task belongs to the abandoned execution: no completion, no failure, still waiting.
    const firstNow = await status(first);
    expect(firstNow?.runtimeStatus).toBe("Running");
    expect(types(firstNow)).not.toContain("SubOrchestrationInstanceCompleted");
    expect(types(firstNow)).not.toContain("SubOrchestrationInstanceFailed");
    await fetch(`${host.url}${webhook}/instances/${first}/terminate?reason=cleanup`, { method: "POST" });
  });
});
