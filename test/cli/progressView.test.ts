import { describe, expect, it } from "vitest";
import type { ProjectStatus } from "../../src/cli/api.js";
import { createProgressView, describeStatus } from "../../src/cli/progressView.js";
import { captureStream } from "./helpers.js";

const status = (done: number, phase = "synthesizing", runtimeStatus = "Running"): ProjectStatus => ({
  projectId: "p",
  instanceId: "tts-p",
  runtimeStatus,
  phase,
  chapters: { total: 100, succeeded: done, failed: 0, rejected: 1, unchanged: 0, pending: 99 - done },
  jobs: { submitted: 4, running: 2, succeeded: 1, failed: 0 },
});

describe("progress without a terminal", () => {
  it("prints phase changes at once and count changes at most every interval, then the final state", () => {
    const out = captureStream();
    let clock = 0;
    const view = createProgressView({
      stream: out.stream,
      tty: false,
      plainIntervalMs: 5_000,
      now: () => clock,
    });
    view.update(status(0, "planning"));
    for (let done = 1; done <= 40; done++) {
      clock += 500; // 40 polls over 20 s
      view.update(status(done));
    }
    clock += 500;
    view.update(status(99, "completed", "Completed"));
    view.stop();
    const lines = out.text().trim().split("\n");
    expect(out.text()).not.toContain("\r");
    // planning, synthesizing, ~3 throttled count lines, completed.
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeLessThanOrEqual(7);
    expect(lines[0]).toContain("Running (planning)");
    expect(lines.at(-1)).toContain("Completed (completed): chapters 100/100 [1 rejected]");
    expect(lines.some((l) => /ETA \d/.test(l))).toBe(true);
  });

  it("describes counts in one line", () => {
    expect(describeStatus(status(5))).toBe(
      "Running (synthesizing): chapters 6/100 [1 rejected], jobs 1/4 done, 2 running",
    );
  });
});
