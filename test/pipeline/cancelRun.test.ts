import { describe, expect, it } from "vitest";
import {
  type CancelPorts,
  type CancelState,
  type CancelWait,
  cancelRun,
} from "../../src/pipeline/cancelRun.js";
import { CANCEL_EVENT, jobInstanceIds } from "../../src/pipeline/names.js";
import type { RunControl, RunStatus } from "../../src/pipeline/runControl.js";
import type { RunRef } from "../../src/pipeline/runStore.js";

/**
 * The cancel use case against a fake Durable control, in-memory run state and a virtual clock: the order of
 * its effects, the bounded wait for the run to publish `cancelled`, which instances it terminates, which batch
 * jobs it deletes. (Through the real host and emulator: lifecycle.e2e and the dashboard browser test.)
 */
const PROJECT = "book";
const INSTANCE = "tts-book";
const RUN = "r1";
const REALTIME_CONCURRENCY = 2;

/** Every call the use case makes, in order, as one readable line each. */
type Log = string[];

/** A durable instance store: statuses by id; the project run reacts to the cancel event after `reactAfterPolls`. */
class FakeControl implements RunControl {
  readonly instances = new Map<string, RunStatus>();
  polls = 0;
  constructor(
    private readonly log: Log,
    private readonly behaviour: { reactAfterPolls?: number; raiseFails?: boolean } = {},
  ) {}

  async getStatus(instanceId: string, options?: { showInput?: boolean }) {
    const status = this.instances.get(instanceId);
    if (instanceId === INSTANCE && !options?.showInput) {
      this.polls++;
      const react = this.behaviour.reactAfterPolls;
      if (status && react !== undefined && this.polls >= react) status.customStatus = { phase: "cancelled" };
    }
    if (!status) return undefined;
    return options?.showInput
      ? status
      : { runtimeStatus: status.runtimeStatus, customStatus: status.customStatus };
  }

  async raiseEvent(instanceId: string, eventName: string) {
    this.log.push(`raise ${eventName} ${instanceId}`);
    if (this.behaviour.raiseFails) throw new Error(`No instance with ID '${instanceId}' found.`);
  }

  async terminate(instanceId: string) {
    this.log.push(`terminate ${instanceId}`);
    const status = this.instances.get(instanceId);
    if (!status) throw new Error(`No instance with ID '${instanceId}' found.`);
    // Like the extension: an ended instance stays as it ended (410 Gone resolves in the client).
    if (["Running", "Pending", "Suspended", "ContinuedAsNew"].includes(status.runtimeStatus)) {
      status.runtimeStatus = "Terminated";
    }
  }
}

class MemoryState implements CancelState {
  readonly cancelled = new Map<string, Date>();
  constructor(
    private readonly log: Log,
    readonly jobs: number[],
    readonly submitted: Set<string>,
  ) {}
  async markCancelled({ projectId, runId }: RunRef, at: string) {
    this.log.push(`mark ${projectId}/${runId}`);
    this.cancelled.set(`${projectId}/${runId}`, new Date(at));
  }
  async listJobs() {
    return this.jobs.map((jobNumber) => ({ jobNumber, writtenAt: new Date(0) }));
  }
  async listSubmitted() {
    return [...this.submitted].map((synthesisId) => ({ synthesisId, markedAt: new Date(0) }));
  }
  async clearSubmitted(_run: RunRef, synthesisId: string) {
    this.submitted.delete(synthesisId);
  }
}

/** A clock that only moves when the use case sleeps: the wait is measured in virtual milliseconds. */
function virtualWait(): CancelWait & { slept: number } {
  let now = 0;
  const wait = {
    timeoutMs: 10_000,
    pollMs: 100,
    slept: 0,
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
      wait.slept += ms;
    },
  };
  return wait;
}

function setup(
  options: {
    runtimeStatus?: string;
    input?: unknown;
    jobs?: number[];
    activeChildren?: string[];
    submitted?: string[];
    reactAfterPolls?: number;
    raiseFails?: boolean;
  } = {},
) {
  const log: Log = [];
  const control = new FakeControl(log, options);
  control.instances.set(INSTANCE, {
    runtimeStatus: options.runtimeStatus ?? "Running",
    input: "input" in options ? options.input : { projectId: PROJECT, runId: RUN, request: {} },
    customStatus: { phase: "synthesizing" },
  });
  for (const child of options.activeChildren ?? [])
    control.instances.set(child, { runtimeStatus: "Running" });
  const state = new MemoryState(log, options.jobs ?? [], new Set(options.submitted ?? []));
  const deleted: string[] = [];
  const wait = virtualWait();
  const ports: CancelPorts = {
    control,
    state,
    deleteSynthesis: async (id) => {
      log.push(`delete ${id}`);
      deleted.push(id);
    },
    realtimeConcurrency: REALTIME_CONCURRENCY,
    now: () => new Date("2026-01-01T00:00:00Z"),
    wait,
  };
  return { log, control, state, deleted, wait, ports };
}

describe("cancelRun", () => {
  it("answers not found for a project never started, and touches nothing", async () => {
    const { ports, log, control } = setup();
    control.instances.clear();
    expect(await cancelRun(ports, PROJECT)).toEqual({ found: false });
    expect(log).toEqual([]);
  });

  it("marks the run, raises the event, waits for phase cancelled, then terminates the run and its active jobs", async () => {
    const job1 = jobInstanceIds(INSTANCE, RUN, 1, REALTIME_CONCURRENCY);
    const job2 = jobInstanceIds(INSTANCE, RUN, 2, REALTIME_CONCURRENCY);
    // Job 1 is collecting (its own instance and its collector run); job 2 runs a realtime lane; job 3 has ended.
    const active = [job1[0], job1[1], job2[3]] as string[];
    const { ports, log, control, state, wait } = setup({
      jobs: [1, 2, 3],
      activeChildren: active,
      submitted: ["s-1", "s-2"],
      reactAfterPolls: 3,
    });
    control.instances.set(jobInstanceIds(INSTANCE, RUN, 3, REALTIME_CONCURRENCY)[0] as string, {
      runtimeStatus: "Completed",
    });

    const result = await cancelRun(ports, PROJECT);

    expect(result).toEqual({
      found: true,
      instanceId: INSTANCE,
      runtimeStatus: "Terminated",
      cancelled: true,
      deletedJobs: 2,
    });
    // Marker before the event (a submit in between sees it), event before the terminate (the run publishes
    // its cancelled counters first), the run before its jobs, the jobs before the service deletes.
    expect(log.slice(0, 3)).toEqual([
      `mark ${PROJECT}/${RUN}`,
      `raise ${CANCEL_EVENT} ${INSTANCE}`,
      `terminate ${INSTANCE}`,
    ]);
    expect(log.slice(3, 6).sort()).toEqual(active.map((id) => `terminate ${id}`).sort());
    expect(log.slice(6).sort()).toEqual(["delete s-1", "delete s-2"]);
    expect(state.cancelled.get(`${PROJECT}/${RUN}`)).toEqual(new Date("2026-01-01T00:00:00Z"));
    expect(state.submitted.size).toBe(0);
    // It stopped waiting as soon as the run said cancelled: two sleeps before the third poll saw it.
    expect(wait.slept).toBe(2 * wait.pollMs);
    for (const id of active) expect(control.instances.get(id)?.runtimeStatus).toBe("Terminated");
  });

  it("terminates a run that never publishes cancelled once the wait times out", async () => {
    const { ports, log, wait, control } = setup({ submitted: ["s-1"] });
    const result = await cancelRun(ports, PROJECT);
    expect(result).toMatchObject({ cancelled: true, runtimeStatus: "Terminated", deletedJobs: 1 });
    expect(wait.slept).toBe(wait.timeoutMs);
    expect(control.polls).toBe(wait.timeoutMs / wait.pollMs);
    expect(log).toContain(`terminate ${INSTANCE}`);
  });

  it("terminates a suspended run without raising the event (it could not take it)", async () => {
    const { ports, log, wait } = setup({ runtimeStatus: "Suspended" });
    await cancelRun(ports, PROJECT);
    expect(log).toEqual([`mark ${PROJECT}/${RUN}`, `terminate ${INSTANCE}`]);
    expect(wait.slept).toBe(0);
  });

  it("does not wait when the event cannot be raised", async () => {
    const { ports, log, wait } = setup({ raiseFails: true });
    const result = await cancelRun(ports, PROJECT);
    expect(result).toMatchObject({ cancelled: true });
    expect(log).toContain(`terminate ${INSTANCE}`);
    expect(wait.slept).toBe(0);
  });

  it("on a run that already ended, says so and still deletes the batch jobs it left", async () => {
    const { ports, log } = setup({ runtimeStatus: "Completed", jobs: [1], submitted: ["s-9"] });
    const result = await cancelRun(ports, PROJECT);
    expect(result).toEqual({
      found: true,
      instanceId: INSTANCE,
      runtimeStatus: "Completed",
      cancelled: false,
      deletedJobs: 1,
    });
    expect(log).toEqual([`mark ${PROJECT}/${RUN}`, "delete s-9"]);
  });

  it("an input without a run id (older history): stops the run, touches no run state", async () => {
    const { ports, log } = setup({ input: undefined, submitted: ["s-1"], reactAfterPolls: 1 });
    const result = await cancelRun(ports, PROJECT);
    expect(result).toMatchObject({ cancelled: true, deletedJobs: 0 });
    expect(log).toEqual([`raise ${CANCEL_EVENT} ${INSTANCE}`, `terminate ${INSTANCE}`]);
  });

  it("a second cancel finds nothing running and nothing left to delete", async () => {
    const { ports, log } = setup({ jobs: [1], submitted: ["s-1"], reactAfterPolls: 1 });
    await cancelRun(ports, PROJECT);
    log.length = 0;
    const again = await cancelRun(ports, PROJECT);
    expect(again).toEqual({
      found: true,
      instanceId: INSTANCE,
      runtimeStatus: "Terminated",
      cancelled: false,
      deletedJobs: 0,
    });
    expect(log).toEqual([`mark ${PROJECT}/${RUN}`]);
  });
});
