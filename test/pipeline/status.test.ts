import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { statusBody } from "../../src/http/synthesis.js";

/** The last progress a run published while two batch jobs and a realtime group were in flight. */
const inFlight = {
  phase: "synthesizing",
  runId: "r1",
  chapters: { total: 6, succeeded: 2, failed: 0, rejected: 0, unchanged: 0, pending: 4 },
  jobs: { submitted: 3, running: 2, succeeded: 1, failed: 0 },
  realtime: { running: 1, completed: 0 },
  manifestBlob: "p1/manifest.json",
};

function status(runtimeStatus: string): DurableOrchestrationStatus {
  return {
    name: "ProjectOrchestrator",
    instanceId: "tts-p1",
    runtimeStatus,
    customStatus: inFlight,
    createdTime: new Date("2026-01-01T00:00:00Z"),
    lastUpdatedTime: new Date("2026-01-01T00:01:00Z"),
  } as unknown as DurableOrchestrationStatus;
}

describe("status body", () => {
  it("reports nothing running and phase cancelled once the run is terminated", () => {
    const body = statusBody("p1", status("Terminated"));
    expect(body.phase).toBe("cancelled");
    expect(body.jobs).toEqual({ submitted: 3, running: 0, succeeded: 1, failed: 0 });
    expect(body.realtime).toEqual({ running: 0, completed: 0 });
    expect(body.chapters).toMatchObject({ total: 6, succeeded: 2 });
  });

  it("keeps the published counters while running", () => {
    const body = statusBody("p1", status("Running"));
    expect(body.phase).toBe("synthesizing");
    expect(body.jobs.running).toBe(2);
    expect(body.realtime.running).toBe(1);
  });
});
