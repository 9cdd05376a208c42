import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, inject, it } from "vitest";
import { waitFor } from "../../tools/shared/waitFor.js";
import { type HostProcess, startHostProcess } from "../support/host.js";
import { uniqueName } from "../support/names.js";

const appDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "apps/crash");
const hosts: HostProcess[] = [];

afterAll(async () => {
  for (const host of hosts) await host.kill();
});

interface Status {
  runtimeStatus: string;
  output: unknown;
  historyEvents?: Array<{ EventType: string }>;
}

async function status(host: HostProcess, id: string): Promise<{ code: number; body: Status }> {
  const response = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/${id}?showHistory=true`);
  return { code: response.status, body: (await response.json()) as Status };
}

describe("local host: crash and resume", () => {
  it("resumes orchestrations, sub-orchestrations and timers after two SIGKILLs, counting each result exactly once", async () => {
    const env = {
      AzureWebJobsStorage: inject("azuriteConnectionString"),
      // Each test run gets its own task hub through host.json's hub plus this override.
      LOCAL_HOST_TASK_HUB: uniqueName("crash"),
      CRASH_ACTIVITY_MS: "20",
      LOCAL_HOST_TIME_SCALE: "600",
    };
    const first = await startHostProcess({ appDir, env });
    hosts.push(first);
    const id = uniqueName("book");
    const started = await fetch(`${first.url}/api/crash/${id}`, {
      method: "POST",
      body: JSON.stringify({ count: 200 }),
    });
    expect(started.status).toBe(202);
    const parentId = uniqueName("parent");
    const parent = await fetch(`${first.url}/api/crash-parent/${parentId}`, {
      method: "POST",
      body: JSON.stringify({ batches: 4, size: 50 }),
    });
    expect(parent.status).toBe(202);

    // Kill the host once some, but not all, completions are recorded.
    await waitFor(
      async () => {
        const { body } = await status(first, id);
        const completed = (body.historyEvents ?? []).filter((e) => e.EventType === "TaskCompleted").length;
        return completed >= 20 && completed < 200;
      },
      { intervalMs: 10, description: "the fan-out to be part-way through" },
    );
    const completedAtFirstKill = (await status(first, id)).body.historyEvents?.filter(
      (e) => e.EventType === "TaskCompleted",
    ).length;
    await first.kill("SIGKILL");

    // A second kill at another point: as soon as the resumed host has made progress (or finished the fan-out).
    const resumed = await startHostProcess({ appDir, env });
    hosts.push(resumed);
    await waitFor(
      async () => {
        const { code, body } = await status(resumed, id);
        const completed = (body.historyEvents ?? []).filter((e) => e.EventType === "TaskCompleted").length;
        return code === 200 || completed > (completedAtFirstKill ?? 0);
      },
      { intervalMs: 10, timeoutMs: 90_000, description: "the resumed host to make progress" },
    );
    await resumed.kill("SIGKILL");

    const second = await startHostProcess({ appDir, env });
    hosts.push(second);
    const done = await waitFor(
      async () => {
        const { code, body } = await status(second, id);
        return code === 200 ? body : undefined;
      },
      { timeoutMs: 90_000, description: "the resumed orchestration to finish" },
    );
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toEqual({ count: 200, distinct: 200, sum: (199 * 200) / 2 });
    const completions = (done.historyEvents ?? []).filter((e) => e.EventType === "ExecutionCompleted");
    expect(completions).toHaveLength(1);

    const parentDone = await waitFor(
      async () => {
        const { code, body } = await status(second, parentId);
        return code === 200 ? body : undefined;
      },
      { timeoutMs: 90_000, description: "the resumed parent to finish" },
    );
    expect(parentDone.runtimeStatus).toBe("Completed");
    expect(parentDone.output).toEqual({ count: 200, distinct: 200, sum: (199 * 200) / 2 });
    await second.stop();
  });
});
