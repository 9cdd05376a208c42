import { describe, expect, it } from "vitest";
import { withPilot } from "../../src/pipeline/planning/pilot.js";
import type { JobChapter, JobSpec } from "../../src/pipeline/planning/schema.js";

const chapter = (n: number): JobChapter => ({
  chapterId: `c${n}`,
  index: n,
  sourceBlob: `book/c${n}.txt`,
  kind: "text",
  characters: 1_000,
  billableCharacters: 1_000,
  textSha256: "0".repeat(64),
  inputBytes: 1_020,
  attempts: 0,
});

/** `count` batch jobs of `size` chapters each, numbered from 1, chapters in order. */
function jobs(count: number, size: number, mode: "batch" | "realtime" = "batch"): JobSpec[] {
  return Array.from({ length: count }, (_, j) => ({
    jobNumber: j + 1,
    mode,
    ...(mode === "batch" ? { inputKind: "PlainText" as const } : {}),
    chapters: Array.from({ length: size }, (_, c) => chapter(j * size + c)),
  }));
}

describe("the pilot job", () => {
  it("splits the first chapters off the first job when the run has more than one wave", () => {
    const planned = withPilot(jobs(4, 10), 3, 3);
    expect(planned.map((j) => [j.jobNumber, j.pilot ?? false, j.chapters.length])).toEqual([
      [1, true, 3],
      [2, false, 7],
      [3, false, 10],
      [4, false, 10],
      [5, false, 10],
    ]);
    // Every chapter once, in book order; the pilot keeps the input kind.
    expect(planned.flatMap((j) => j.chapters.map((c) => c.index))).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
    expect(planned[0]?.inputKind).toBe("PlainText");
  });

  it("is not made for a single wave, when disabled, for a first job no bigger than it, or in realtime mode", () => {
    expect(withPilot(jobs(3, 10), 3, 3)).toEqual(jobs(3, 10));
    expect(withPilot(jobs(4, 10), 0, 3)).toEqual(jobs(4, 10));
    expect(withPilot(jobs(4, 3), 3, 3)).toEqual(jobs(4, 3));
    expect(withPilot(jobs(4, 10, "realtime"), 3, 3)).toEqual(jobs(4, 10, "realtime"));
    expect(withPilot([], 3, 3)).toEqual([]);
  });
});
