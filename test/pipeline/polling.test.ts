import { describe, expect, it } from "vitest";
import {
  endBracket,
  learnRate,
  nextPollDelayMs,
  PRIOR_PROBE_MARGIN,
  PROBE_WINDOW_STEPS,
  type ServiceRate,
} from "../../src/pipeline/polling.js";

const tuning: {
  pollMinMs: number;
  pollMaxMs: number;
  expectedCharsPerSecond: number;
  priorRate?: ServiceRate;
} = { pollMinMs: 5_000, pollMaxMs: 60_000, expectedCharsPerSecond: 500 };

/**
 * Drives the poll plan against a job that really takes `actualMs`, as the batch orchestrator does: returns
 * the polls it makes, when it sees the job done, and the rate it learns.
 */
function simulate(
  characters: number,
  actualMs: number,
  rate?: ServiceRate,
  priorRate?: ServiceRate,
  probe = false,
) {
  const withPrior = priorRate ? { ...tuning, priorRate } : tuning;
  let elapsed = 0;
  let unfinished = 0;
  let polls = 0;
  const delays: number[] = [];
  for (;;) {
    const delay = nextPollDelayMs({
      characters,
      elapsedMs: elapsed,
      unfinishedMs: unfinished,
      rate,
      probe,
      tuning: withPrior,
    });
    delays.push(delay);
    elapsed += delay;
    polls++;
    if (elapsed >= actualMs) {
      // As the orchestrator does: only this run's own measurements are learned, never the prior.
      return { polls, seenAt: elapsed, delays, rate: learnRate(rate, characters, unfinished, elapsed) };
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

  it("past the prediction, doubles the lateness from the tolerance up to a quarter of the elapsed time, within the bounds", () => {
    const rate = { low: 10_000, high: 10_500 }; // 1,000,000 characters: predicted done by 100 s
    const pollAfter = (unfinishedMs: number) =>
      nextPollDelayMs({ characters: 1_000_000, elapsedMs: unfinishedMs, unfinishedMs, rate, tuning });
    // Just late: the next poll 5 % of the prediction later (a job a little late is seen a little late).
    expect(pollAfter(100_000)).toBe(5_000);
    expect(pollAfter(101_000)).toBe(5_000);
    // 20 s late: 20 s more; far past it, a quarter of the elapsed time, at most POLL_MAX_SECONDS.
    expect(pollAfter(120_000)).toBe(20_000);
    expect(pollAfter(150_000)).toBe(37_500);
    expect(pollAfter(1_000_000)).toBe(60_000);
  });

  it("does not let brackets that miss each other by a timer's rounding lose their upper bound", () => {
    // Seen done at the first poll (no new upper bound), a hair faster than the narrow bracket allowed.
    const rate = learnRate({ low: 3_797.0034, high: 3_797.0036 }, 1_500_000, 0, 395_040);
    expect(rate?.high).toBeDefined();
    expect(rate?.low).toBe(rate?.high);
  });

  it("keeps the newest bracket when the brackets disagree", () => {
    const rate = learnRate({ low: 4_000, high: 4_200 }, 100_000, 40_000, 50_000);
    expect(rate).toEqual({ low: 2_000, high: 2_500 });
  });
});

describe("poll plan with a prior (earlier runs' throughput)", () => {
  const characters = 1_500_000;
  // An earlier run measured 1,500,000 characters in 380–395 s.
  const prior: ServiceRate = { low: characters / 395, high: characters / 380 };

  it("finds a first job at the prior's speed in two polls, within its window, and measures its own bracket", () => {
    const first = simulate(characters, 388_000, undefined, prior);
    expect(first.polls).toBe(2);
    // Just before the window, then its late end: seen no later than 395 s (a doubling search: 480 s).
    expect(first.delays[0]).toBe(Math.round(380_000 * (1 - PRIOR_PROBE_MARGIN)));
    expect(first.seenAt).toBe(395_000);
    const unfinishedAt = 380_000 * (1 - PRIOR_PROBE_MARGIN);
    expect(first.rate?.low).toBeCloseTo(characters / 395, 6);
    expect(first.rate?.high).toBeCloseTo(characters / (unfinishedAt / 1000), 6);
    // The lane's next jobs start from this run's own bracket: narrow enough for one or two polls each.
    let rate = first.rate;
    const later = [386_000, 391_000, 389_000, 388_000].map((actual) => {
      const run = simulate(characters, actual, rate);
      rate = run.rate;
      expect(run.seenAt).toBeLessThanOrEqual(actual * 1.05);
      return run.polls;
    });
    expect(later.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6);
  });

  it("searches a wide prior (one cold wave's doubling bracket) from its start, not at its late end", () => {
    // A calibration run's single job of 1,500,000 characters: unfinished at 361.5 s, done at 723 s.
    const wide: ServiceRate = { low: characters / 723, high: characters / 361.5 };
    const start = 361_500 * (1 - PRIOR_PROBE_MARGIN);
    // The same book again, really 396 s: seen within a few seconds, not at the prior's late end (723 s).
    const again = simulate(characters, 396_000, undefined, wide);
    expect(again.delays[0]).toBe(Math.round(start));
    expect(again.seenAt).toBeGreaterThanOrEqual(396_000);
    expect(again.seenAt).toBeLessThanOrEqual(396_000 + tuning.pollMinMs);
    expect(again.polls).toBeLessThanOrEqual(5);
    // Anywhere in the window: at most max(pollMinMs, time past the start) late, in log2-many polls.
    for (let actual = 365_000; actual <= 723_000; actual += 17_000) {
      const run = simulate(characters, actual, undefined, wide);
      expect(run.seenAt - actual).toBeLessThanOrEqual(Math.max(tuning.pollMinMs, actual - start));
      expect(run.seenAt).toBeLessThanOrEqual(723_000);
      expect(run.polls).toBeLessThanOrEqual(3 + Math.ceil(Math.log2((actual - start) / tuning.pollMinMs)));
      // The run's own bracket is the search's last step: narrower than the prior.
      const own = run.rate as ServiceRate & { high: number };
      expect(characters / own.low - characters / own.high).toBeLessThan((723 - 361.5) * 1000);
    }
  });

  it("searches a narrow prior's window in steps of about pollMinMs for the run's first watched job (the probe)", () => {
    const start = 380_000 * (1 - PRIOR_PROBE_MARGIN);
    // The window (376.2–395 s) is narrow: another job is polled at its late end, up to 19 s late…
    expect(simulate(characters, 377_000, undefined, prior).seenAt).toBe(395_000);
    // …the probe is seen at most one step late: the window in equal steps of at least pollMinMs (18.8 s in
    // three of 6.3 s), with at most PROBE_WINDOW_STEPS polls after the first.
    const step = (395_000 - start) / 3;
    for (let actual = 376_500; actual <= 395_000; actual += 1_300) {
      const run = simulate(characters, actual, undefined, prior, true);
      expect(run.delays[0]).toBe(Math.round(start));
      expect(run.seenAt - actual).toBeLessThanOrEqual(step + 1);
      expect(run.seenAt).toBeLessThanOrEqual(395_000);
      expect(run.polls).toBeLessThanOrEqual(1 + PROBE_WINDOW_STEPS);
      // Its own bracket is one step wide: narrow enough for the lanes' next jobs to need one poll each.
      const own = run.rate as ServiceRate & { high: number };
      expect(characters / own.low - characters / own.high).toBeLessThanOrEqual((step + 1) / 1000);
      expect(run.delays.every((delay) => delay >= tuning.pollMinMs)).toBe(true);
    }
    // Past the window (a slower service), the probe backs off as any job past a prior does.
    const slow = simulate(characters, 450_000, undefined, prior, true);
    expect(slow.seenAt).toBeLessThanOrEqual(450_000 * 1.25);
  });

  it("searches a wide prior's window in equal fifths for the probe: bounded polls, at most a fifth late", () => {
    const wide: ServiceRate = { low: characters / 479, high: characters / 239.5 };
    const start = 239_500 * (1 - PRIOR_PROBE_MARGIN);
    const step = (479_000 - start) / PROBE_WINDOW_STEPS;
    for (let actual = 240_000; actual <= 479_000; actual += 11_000) {
      const run = simulate(characters, actual, undefined, wide, true);
      expect(run.seenAt - actual).toBeLessThanOrEqual(step + 1);
      expect(run.seenAt).toBeLessThanOrEqual(479_000);
      expect(run.polls).toBeLessThanOrEqual(1 + PROBE_WINDOW_STEPS);
    }
  });

  it("learns a faster service from this run alone (done at the first poll), never from the prior", () => {
    const fast = simulate(characters, 190_000, undefined, prior);
    expect(fast.polls).toBe(1);
    expect(fast.seenAt).toBeLessThan(380_000);
    // This run's bracket has no lower bound on the duration: it is not narrowed with the stale prior.
    expect(fast.rate).toEqual({ low: (characters / fast.seenAt) * 1000 });
  });

  it("backs off geometrically when the service is much slower than the prior, and never starves", () => {
    for (const actual of [400_000, 450_000, 1_200_000, 4_000_000, 20_000_000]) {
      const slow = simulate(characters, actual, undefined, prior);
      // Seen at most a quarter late (or one minimum interval), with few polls however far off the prior was.
      expect(slow.seenAt).toBeLessThanOrEqual(Math.max(actual * 1.25, actual + tuning.pollMinMs));
      expect(slow.polls).toBeLessThanOrEqual(5 + Math.ceil(Math.log(actual / 395_000) / Math.log(1.25)));
      let elapsed = 0;
      for (const delay of slow.delays) {
        expect(delay).toBeGreaterThanOrEqual(tuning.pollMinMs);
        // Never a wait longer than a quarter of the time already spent (past the prior's window).
        if (elapsed >= 395_000)
          expect(delay).toBeLessThanOrEqual(Math.max(tuning.pollMinMs, elapsed / 4) + 1);
        elapsed += delay;
      }
    }
  });

  it("is ignored once this run has measured a rate, and when it is one-sided", () => {
    const measured: ServiceRate = { low: 3_900, high: 4_000 };
    const input = { characters: 500_000, elapsedMs: 0, unfinishedMs: 0, rate: measured };
    expect(nextPollDelayMs({ ...input, tuning: { ...tuning, priorRate: prior } })).toBe(
      nextPollDelayMs({ ...input, tuning }),
    );
    const cold = { characters, elapsedMs: 0, unfinishedMs: 0 };
    expect(nextPollDelayMs({ ...cold, tuning: { ...tuning, priorRate: { low: 3_000 } } })).toBe(60_000);
    expect(nextPollDelayMs({ ...cold, tuning })).toBe(60_000);
  });
});

describe("poll plan of a pilot job (planning/pilot.ts)", () => {
  const pilotPolls = (
    actualMs: number,
    pilotPriorRate?: ServiceRate,
    priorRate?: ServiceRate,
    pilotPollMs?: number,
  ) => {
    const withPriors = {
      ...tuning,
      ...(pilotPollMs ? { pilotPollMs } : {}),
      ...(priorRate ? { priorRate } : {}),
      ...(pilotPriorRate ? { pilotPriorRate } : {}),
    };
    const at: number[] = [];
    let elapsed = 0;
    let unfinished = 0;
    for (;;) {
      elapsed += nextPollDelayMs({
        characters: 60_000,
        elapsedMs: elapsed,
        unfinishedMs: unfinished,
        pilot: true,
        probe: true,
        tuning: withPriors,
      });
      at.push(elapsed);
      if (elapsed >= actualMs) return { at, rate: learnRate(undefined, 60_000, unfinished, elapsed) };
      unfinished = elapsed;
      if (at.length > 100) throw new Error("never finished");
    }
  };

  it("with nothing known, polls as any job first, then every pollMinMs: at most pollMinMs late", () => {
    // A quarter of the default expectation (5 s + 60,000 chars at 500 chars/s) is 31.25 s.
    const { at, rate } = pilotPolls(43_000);
    expect(at).toEqual([31_250, 36_250, 41_250, 46_250]);
    expect(rate).toEqual({ low: (60_000 / 46_250) * 1000, high: (60_000 / 41_250) * 1000 });
  });

  it("with its own interval (PILOT_POLL_SECONDS), is polled every max(that, a tenth of its age) past the first poll", () => {
    const { at } = pilotPolls(43_000, undefined, undefined, 2_000);
    // 31.25 s, then a tenth of the age each time (more than 2 s here): seen 3.4 s late, in 4 polls.
    expect(at).toEqual([31_250, 34_375, 37_813, 41_594, 45_753]);
    // Seen running at 10 s (a smaller pilot): next at 12 s, below pollMinMs; a full job keeps pollMinMs.
    const seenAt10s = { characters: 60_000, elapsedMs: 10_000, unfinishedMs: 10_000 };
    const withPilotInterval = { ...tuning, pilotPollMs: 2_000 };
    expect(nextPollDelayMs({ ...seenAt10s, pilot: true, tuning: withPilotInterval })).toBe(2_000);
    expect(nextPollDelayMs({ ...seenAt10s, tuning: withPilotInterval })).toBeGreaterThanOrEqual(
      tuning.pollMinMs,
    );
  });

  it("backs off by a quarter of its age when it takes far longer: a stuck pilot costs few polls", () => {
    const { at } = pilotPolls(600_000);
    expect(at.length).toBeLessThan(40);
    for (const [k, t] of at.entries()) {
      if (k > 0)
        expect(t - (at[k - 1] as number)).toBeLessThanOrEqual(
          Math.max(5_000, (at[k - 1] as number) / 10) + 1,
        );
    }
  });

  it("uses the pilots' own prior, never the full jobs' one (a few chapters run at another speed)", () => {
    // Full jobs ran at 4,000 chars/s: a pilot predicted from that (15 s) would be polled far too early.
    const fullJobsOnly = pilotPolls(40_000, undefined, { low: 3_900, high: 4_100 });
    expect(fullJobsOnly.at[0]).toBe(31_250);
    // Earlier pilots: 1,500–1,530 chars/s, a 39.2–40 s window narrower than pollMinMs: polled pollMinMs
    // before its end, then at its end (seen at most the window late, with a bracket one pollMinMs wide).
    const { at, rate } = pilotPolls(39_500, { low: 1_500, high: 1_530 }, { low: 3_900, high: 4_100 });
    expect(at).toEqual([35_000, 40_000]);
    expect(rate).toEqual({ low: 1_500, high: (60_000 / 35_000) * 1000 });
  });
});

describe("a finished job's end, narrowed by the service's own timing", () => {
  it("keeps the polls' bracket without a usable service duration, and never widens it", () => {
    expect(endBracket(120_000, 240_000, undefined, 2_000)).toEqual({
      unfinishedMs: 120_000,
      doneMs: 240_000,
    });
    expect(endBracket(120_000, 240_000, 0, 2_000)).toEqual({ unfinishedMs: 120_000, doneMs: 240_000 });
    // Without the submit's length only the late end moves (the job may have been created long before).
    expect(endBracket(120_000, 240_000, 200_000, undefined)).toEqual({
      unfinishedMs: 120_000,
      doneMs: 206_000,
    });
    // A poll bracket already narrower than the margin stays as it is.
    expect(endBracket(199_000, 201_000, 200_000, 1_000)).toEqual({ unfinishedMs: 199_000, doneMs: 201_000 });
    // Clocks that disagree (the service's duration past what the polls saw done): the polls' bracket.
    expect(endBracket(120_000, 140_000, 200_000, 1_000)).toEqual({ unfinishedMs: 120_000, doneMs: 140_000 });
  });
});
