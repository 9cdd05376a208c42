import { describe, expect, it } from "vitest";
import {
  floorSeconds,
  listScheduleSeconds,
  modelledJobSeconds,
  type ServiceModel,
} from "../../tools/bench/floor.js";
import { resolveConfig } from "../../tools/emulator/config.js";
import { MIN_RUNNING_MS } from "../../tools/emulator/constants.js";
import { MemoryStore } from "../../tools/emulator/store/memoryStore.js";
import { SynthesisEngine } from "../../tools/emulator/synthesisEngine.js";

const model: ServiceModel = {
  charsPerSecond: 500,
  inputParallelism: 2,
  startLatencyMs: 5_000,
  minRunningMs: 2_000,
};

describe("listScheduleSeconds", () => {
  it("puts each job, in order, on the slot that frees first", () => {
    // 3 slots: 10,10,10 start at 0; the 4th (5) goes on the first slot (10→15), the 5th (20) on the
    // second (10→30): makespan 30.
    expect(listScheduleSeconds([10, 10, 10, 5, 20], 3)).toBe(30);
    // One slot: the plain sum.
    expect(listScheduleSeconds([10, 10, 10, 5, 20], 1)).toBe(55);
    // More slots than jobs: the longest job.
    expect(listScheduleSeconds([7, 3], 6)).toBe(7);
    expect(listScheduleSeconds([], 3)).toBe(0);
  });

  it("keeps submission order (no reordering into a better packing)", () => {
    // [2, 2, 3] in order on 2 slots: 2 | 2, then 3 after a 2: 5. Longest first ([3, 2, 2]) would give 4,
    // but the pipeline submits in chapter order, so the floor does too.
    expect(listScheduleSeconds([2, 2, 3], 2)).toBe(5);
    expect(listScheduleSeconds([3, 2, 2], 2)).toBe(4);
  });

  it("refuses nonsense", () => {
    expect(() => listScheduleSeconds([1], 0)).toThrow(/slots/);
    expect(() => listScheduleSeconds([-1], 1)).toThrow(/duration/);
  });
});

describe("modelledJobSeconds", () => {
  it("is start latency plus the busiest lane at chars/s", () => {
    // Lanes: [5000, 1000] then 1000 → lane 2 (2000), then 3000 → lane 2 (5000): busiest 5000 chars = 10 s.
    expect(modelledJobSeconds([5000, 1000, 1000, 3000], model)).toBe(15);
    // One input: one lane.
    expect(modelledJobSeconds([2500], model)).toBe(10);
    // Tiny job: the minimum running time.
    expect(modelledJobSeconds([10], model)).toBe(7);
  });

  it("matches the emulator engine's own plan for the same inputs", () => {
    const inputs = [15_000, 14_200, 16_800, 9_000, 15_500, 15_000, 21_000, 3_000, 12_345, 15_001, 500];
    for (const inputParallelism of [1, 3, 8]) {
      const config = resolveConfig({
        env: {},
        timeScale: 1,
        charsPerSecond: 500,
        inputParallelism,
        startLatencyMs: 5_000,
      });
      const engine = new SynthesisEngine(new MemoryStore(), config);
      const planned = engine.plan(1_000_000, inputs);
      expect(modelledJobSeconds(inputs, { ...model, inputParallelism, minRunningMs: MIN_RUNNING_MS })).toBe(
        (planned.finishAt - 1_000_000) / 1000,
      );
    }
  });
});

describe("floorSeconds", () => {
  it("schedules the modelled jobs on maxConcurrentJobs slots", () => {
    // Jobs of 15 s, 15 s, 10 s, 7 s (see above); 2 slots: A 15→25, B 15→22: 25.
    const jobs = [[5000, 1000, 1000, 3000], [5000, 1000, 1000, 3000], [2500], [10]];
    expect(floorSeconds(jobs, 2, model)).toBe(25);
    expect(floorSeconds(jobs, 1, model)).toBe(47);
    expect(floorSeconds(jobs, 6, model)).toBe(15);
  });
});
