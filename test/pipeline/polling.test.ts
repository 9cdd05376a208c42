import { describe, expect, it } from "vitest";
import { learnRate, nextPollDelayMs, type ServiceRate } from "../../src/pipeline/polling.js";

const tuning = { pollMinMs: 5_000, pollMaxMs: 60_000, expectedCharsPerSecond: 500 };

/**
 * Drives the poll plan against a job that really takes `actualMs`, as the batch orchestrator does: returns
 * the polls it makes, when it sees the job done, and the rate it learns.
 */
function simulate(characters: number, actualMs: number, rate?: ServiceRate) {
  let elapsed = 0;
  let unfinished = 0;
  let polls = 0;
  for (;;) {
    elapsed += nextPollDelayMs({ characters, elapsedMs: elapsed, unfinishedMs: unfinished, rate, tuning });
    polls++;
    if (elapsed >= actualMs) {
      return { polls, seenAt: elapsed, rate: learnRate(rate, characters, unfinished, elapsed) };
    }
    unfinished = elapsed;
    if (polls > 100) throw new Error("never finished");
  }
}

describe("poll plan", () => {
  it("with nothing measured, starts at a quarter of the prior (at most 60 s), then doubles", () => {
    expect(nextPollDelayMs({ characters: 10_000, elapsedMs: 0, unfinishedMs: 0, tuning })).toBe(6_250);
    expect(nextPollDelayMs({ characters: 1_500_000, elapsedMs: 0, unfinishedMs: 0, tuning })).toBe(60_000);
    expect(nextPollDelayMs({ characters: 1_500_000, elapsedMs: 60_000, unfinishedMs: 60_000, tuning })).toBe(
      60_000,
    );
    expect(nextPollDelayMs({ characters: 100, elapsedMs: 0, unfinishedMs: 0, tuning })).toBe(5_000);
  });

  it("learns a bracket from the first job, then finds same-sized jobs in one or two polls", () => {
    const first = simulate(1_500_000, 380_000);
    expect(first.polls).toBe(4); // 60, 120, 240, 480 s
    expect(first.rate).toEqual({ low: 1_500_000 / 480, high: 1_500_000 / 240 });
    let rate = first.rate;
    const later = [390_000, 370_000, 385_000, 380_000].map((actual) => {
      const run = simulate(1_500_000, actual, rate);
      rate = run.rate;
      return run;
    });
    // Each job narrows the bracket; once it is within 5 % one poll at its late end finds the job done.
    expect(later.map((r) => r.polls)).toEqual([2, 1, 2, 1]);
    const lastLate = later.at(-1)?.seenAt ?? 0;
    expect(lastLate).toBeGreaterThanOrEqual(380_000);
    expect(lastLate).toBeLessThanOrEqual(380_000 * 1.05);
  });

  it("scales the prediction with a job's characters", () => {
    const rate = { low: 3_900, high: 4_000 };
    // 500,000 characters at 3,900–4,000 chars/s: narrow, so one poll at 500,000 / 3,900 s.
    expect(nextPollDelayMs({ characters: 500_000, elapsedMs: 0, unfinishedMs: 0, rate, tuning })).toBe(
      128_205,
    );
  });

  it("backs off past the prediction by a quarter of the elapsed time, within the bounds", () => {
    const rate = { low: 10_000, high: 10_500 };
    const pollAfter = (unfinishedMs: number) =>
      nextPollDelayMs({ characters: 1_000_000, elapsedMs: unfinishedMs, unfinishedMs, rate, tuning });
    expect(pollAfter(120_000)).toBe(30_000);
    expect(pollAfter(1_000_000)).toBe(60_000);
  });

  it("keeps the newest bracket when the brackets disagree", () => {
    const rate = learnRate({ low: 4_000, high: 4_200 }, 100_000, 40_000, 50_000);
    expect(rate).toEqual({ low: 2_000, high: 2_500 });
  });
});
