import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EventType, type HistoryEvent, historyEvent } from "../../tools/local-host/durable/history.js";
import { startMessage } from "../../tools/local-host/durable/instance.js";
import { MemoryDurableStore } from "../../tools/local-host/durable/memory-store.js";
import type { InstanceRecord } from "../../tools/local-host/durable/store.js";
import { startLocalHost } from "../../tools/local-host/index.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { uniqueName } from "../support/names.js";

// Storage left as a SIGKILL at a precise point would leave it, handed to a fresh host: nothing lost, nothing
// replayed twice. (crash.test.ts kills a real host process at whatever point the kill lands.)

const appDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "apps/golden");
const webhook = "/runtime/webhooks/durabletask";

/** Countdown(1) that reached continueAsNew(0) in an episode that also consumed a "ping" event (message m1). */
async function killedInsideContinueAsNew(withNewStart: boolean) {
  const store = new MemoryDurableStore();
  const instanceId = uniqueName("countdown");
  const t0 = new Date(Date.now() - 120_000);
  const t1 = new Date(t0.getTime() + 61_000);
  const record: InstanceRecord = {
    instanceId,
    name: "Countdown",
    executionId: "exec1",
    runtimeStatus: "Running",
    input: "1",
    createdTime: t0.toISOString(),
    lastUpdatedTime: t0.toISOString(),
  };
  const ping = historyEvent(EventType.EventRaised, t1, { Name: "ping", Input: '"stale"' });
  const history: HistoryEvent[] = [
    historyEvent(EventType.OrchestratorStarted, t0),
    startMessage(record, t0, "1").event,
    historyEvent(EventType.TimerCreated, t0, { FireAt: new Date(t0.getTime() + 60_000).toISOString() }, 0),
    historyEvent(EventType.OrchestratorCompleted, t0),
    historyEvent(EventType.OrchestratorStarted, t1),
    ping,
    historyEvent(EventType.TimerFired, t1, {
      TimerId: 0,
      FireAt: new Date(t0.getTime() + 60_000).toISOString(),
    }),
    historyEvent(EventType.OrchestratorCompleted, t1),
    historyEvent(EventType.ExecutionCompleted, t1, { OrchestrationStatus: 2, Result: "0" }),
  ];
  await store.putInstance(record);
  await store.appendHistory(instanceId, "exec1", 0, history, new Map([[ping, "0001-ping"]]));
  // The consumed message was not yet removed from the pending log when the kill landed.
  await store.addInbox({ id: "0001-ping", instanceId, kind: "event", event: ping });
  if (withNewStart) {
    const next = startMessage({ ...record, executionId: "exec2", input: "0" }, t1, "0", "0002-can-exec1");
    await store.addInbox({ id: "0002-can-exec1", instanceId, kind: "start", event: next.event });
  }
  return { store, instanceId };
}

describe("local host: recovery from storage a kill left behind", () => {
  for (const withNewStart of [false, true]) {
    it(`finishes a continueAsNew killed ${withNewStart ? "after" : "before"} the new start was written, without replaying consumed events`, async () => {
      const { store, instanceId } = await killedInsideContinueAsNew(withNewStart);
      const host = await startLocalHost({ appDir, port: 0, durableStore: store, timeScale: 6_000 });
      try {
        const done = await waitFor(async () => {
          const response = await fetch(`${host.url}${webhook}/instances/${instanceId}?showHistory=true`);
          const body = (await response.json()) as {
            runtimeStatus: string;
            output: unknown;
            input: unknown;
            historyEvents: Array<{ EventType: string }>;
          };
          return response.status === 200 ? body : undefined;
        });
        expect(done.runtimeStatus).toBe("Completed");
        expect(done.input).toBe(0);
        // The ping belonged to the old execution (consumed there): the new one never sees it.
        expect(done.output).toEqual({ pinged: false });
        expect(done.historyEvents.filter((e) => e.EventType === "ExecutionStarted")).toHaveLength(1);
        expect(await store.loadInbox(instanceId)).toEqual([]);
        const record = await store.getInstance(instanceId);
        if (withNewStart) expect(record?.executionId).toBe("exec2");
        else expect(record?.executionId).not.toBe("exec1");
        expect((await store.loadHistory(instanceId, "exec1")).events).toEqual([]);
      } finally {
        await host.stop();
      }
    });
  }

  it("does not re-send a sub-orchestration start after a restart to a child running for another task", async () => {
    const store = new MemoryDurableStore();
    const parentId = uniqueName("subwindow");
    const child = (i: number) => `${parentId}-c${i}`;
    const raise = (url: string, id: string) =>
      fetch(`${url}${webhook}/instances/${id}/raiseEvent/go`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(id),
      });
    const first = await startLocalHost({ appDir, port: 0, durableStore: store });
    let before: InstanceRecord | undefined;
    try {
      const started = await fetch(`${first.url}${webhook}/orchestrators/SubWindow/${parentId}`, {
        method: "POST",
      });
      expect(started.status).toBe(202);
      await waitFor(async () => (await store.getInstance(child(1)))?.runtimeStatus === "Running", {
        description: "c1 to run",
      });
      expect((await raise(first.url, child(0))).status).toBe(202);
      // The second window re-sends c1 (task 2), which overwrites the running c1 (task 1), as on Azure Storage.
      before = await waitFor(
        async () => {
          const record = await store.getInstance(child(1));
          return record?.parentTaskId === 2 && record.runtimeStatus === "Running" ? record : undefined;
        },
        { description: "c1 to be overwritten for task 2" },
      );
      expect(first.stats().runningSubOrchestrationsOverwritten).toBe(1);
    } finally {
      await first.stop();
    }

    // A new host on the same storage re-issues the parent's open work: tasks 1, 2 (both c1) and 3 (c2).
    const second = await startLocalHost({ appDir, port: 0, durableStore: store });
    try {
      await waitFor(async () => (await store.getInstance(child(2)))?.runtimeStatus === "Running", {
        description: "c2 to run after the restart",
      });
      expect((await raise(second.url, child(1))).status).toBe(202);
      // c1 (task 2) completes and reaches the parent: then the parent re-sends c1 again (task 4), as on Azure.
      await waitFor(
        async () => {
          const parent = await store.getInstance(parentId);
          const { events } = await store.loadHistory(parentId, String(parent?.executionId));
          return events.some((e) => e.EventType === 8 && e.TaskScheduledId === 2);
        },
        { description: "the parent to get c1's completion for task 2" },
      );
      // Recovery re-issued tasks 1-3 but sent no start to the running c1 (with a re-send: two overwrites).
      expect(second.stats().runningSubOrchestrationsOverwritten).toBe(0);
      expect(before?.parentTaskId).toBe(2);
    } finally {
      await second.stop();
    }
  });
});
