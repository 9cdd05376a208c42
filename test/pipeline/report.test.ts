import { describe, expect, it } from "vitest";
import { JOB_FINISHED_EVENT } from "../../src/pipeline/names.js";
import { type EventRaiser, reportJobFinished } from "../../src/pipeline/report.js";
import { emptyTally } from "../../src/pipeline/tally.js";

const input = {
  instanceId: "tts-book",
  runId: "r1",
  result: { jobNumber: 2, mode: "batch" as const, jobFailed: false, tally: emptyTally(), requests: 3 },
};

/** A raiser that answers as durable-functions' DurableClient does for a given status. */
function raiserAnswering(status: 202 | 404 | 500) {
  const calls: unknown[][] = [];
  const raiser: EventRaiser = {
    async raiseEvent(...args) {
      calls.push(args);
      if (status === 404) throw new Error(`No instance with ID '${args[0]}' found.`);
      if (status === 500) throw new Error("Webhook returned unrecognized status code 500");
    },
  };
  return { raiser, calls };
}

describe("ReportJobFinished", () => {
  it("raises job-finished to the run with the run id and the job's result", async () => {
    const { raiser, calls } = raiserAnswering(202);
    await expect(reportJobFinished(raiser, input)).resolves.toBe("raised");
    expect(calls).toEqual([["tts-book", JOB_FINISHED_EVENT, { runId: "r1", result: input.result }]]);
  });

  it("a purged run (404) needs no report; other failures are thrown so the activity is retried", async () => {
    await expect(reportJobFinished(raiserAnswering(404).raiser, input)).resolves.toBe("run-gone");
    await expect(reportJobFinished(raiserAnswering(500).raiser, input)).rejects.toThrow("500");
  });
});
