import { describe, expect, it } from "vitest";
import { BOOK_BATCH_TARGETS } from "../../tools/bench/scenarios/book-batch.js";
import { checkTargets, withTargets } from "../../tools/bench/targets.js";

const met = {
  chapters: 1_432,
  speechRequests: 57,
  floorRatio: 1.037,
  firstMessageLagSeconds: 3.9,
  peakRssMB: 258,
  billedInputs: 1_432,
};

describe("bench targets (issue #10's limits on a scenario's defaults)", () => {
  it("meets each limit inclusively and names every one missed", () => {
    expect(checkTargets(met, BOOK_BATCH_TARGETS).every((c) => c.met)).toBe(true);
    expect(
      checkTargets({ ...met, speechRequests: 60, floorRatio: 1.05 }, BOOK_BATCH_TARGETS).every((c) => c.met),
    ).toBe(true);
    const missed = withTargets(
      { ...met, speechRequests: 61, floorRatio: 1.053, billedInputs: 1_431, peakRssMB: undefined },
      [],
      BOOK_BATCH_TARGETS,
    );
    expect(missed["targetsMissed"]).toEqual(["speechRequests", "floorRatio", "peakRssMB", "billedInputs"]);
  });

  it("applies to the defaults only: --warm and --out keep them, any other option or a sweep does not", () => {
    expect(withTargets(met, ["--warm", "--out", "x"], BOOK_BATCH_TARGETS)).toHaveProperty(
      "targetsMissed",
      [],
    );
    expect(withTargets(met, ["--time-scale", "100"], BOOK_BATCH_TARGETS)).not.toHaveProperty("targets");
    expect(withTargets({ sweep: [met] }, [], BOOK_BATCH_TARGETS)).not.toHaveProperty("targets");
  });
});
