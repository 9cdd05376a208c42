import { describe, expect, it } from "vitest";
import { parseBookArgs, percentile } from "../../tools/bench/bookBench.js";

const defaults = {
  chapters: 100,
  mode: "batch" as const,
  maxConcurrentJobs: 3,
  timeScale: 50,
  outputFormat: "audio-16khz-32kbitrate-mono-mp3",
  audioMode: "fast" as const,
  wordBoundaries: true,
  timeoutSeconds: 600,
};

describe("parseBookArgs", () => {
  it("gives one configuration named after the scenario without lists", () => {
    const [config, ...rest] = parseBookArgs(["--chapters", "40"], defaults, "book-100");
    expect(rest).toHaveLength(0);
    expect(config).toMatchObject({ chapters: 40, maxConcurrentJobs: 3, name: "book-100" });
    expect(config?.maxChaptersPerJob).toBeUndefined();
  });

  it("expands the sweep flags into every combination, each named by its settings", () => {
    const configs = parseBookArgs(
      ["--max-concurrent-jobs", "1,3,6", "--max-chapters-per-job", "50,100,500", "--out", "/tmp/x"],
      defaults,
      "book-batch",
    );
    expect(configs.map((c) => c.name)).toEqual([
      "book-batch.c1.n50",
      "book-batch.c1.n100",
      "book-batch.c1.n500",
      "book-batch.c3.n50",
      "book-batch.c3.n100",
      "book-batch.c3.n500",
      "book-batch.c6.n50",
      "book-batch.c6.n100",
      "book-batch.c6.n500",
    ]);
    expect(configs[5]).toMatchObject({ maxConcurrentJobs: 3, maxChaptersPerJob: 500, outDir: "/tmp/x" });
  });

  it("--warm calibrates with two full waves of the same job shape, or --warm-chapters", () => {
    const [warm] = parseBookArgs(["--chapters", "1432", "--warm"], defaults, "book-batch");
    expect(warm).toMatchObject({ name: "book-batch.warm", warmChapters: 600 });
    const [small] = parseBookArgs(["--warm"], defaults, "book-100");
    expect(small?.warmChapters).toBe(100);
    const sweep = parseBookArgs(
      ["--chapters", "1432", "--warm", "--max-concurrent-jobs", "1,6", "--max-chapters-per-job", "50"],
      defaults,
      "book-batch",
    );
    expect(sweep.map((c) => [c.name, c.warmChapters])).toEqual([
      ["book-batch.c1.n50.warm", 100],
      ["book-batch.c6.n50.warm", 600],
    ]);
    const [chosen] = parseBookArgs(["--warm-chapters", "40"], defaults, "book-100");
    expect(chosen?.warmChapters).toBe(40);
    expect(parseBookArgs([], defaults, "book-100")[0]?.warmChapters).toBeUndefined();
    expect(() => parseBookArgs(["--warm-chapters", "0"], defaults, "book-100")).toThrow(/warm-chapters/);
    expect(() => parseBookArgs(["--warm", "--mode", "realtime"], defaults, "book-100")).toThrow(/batch/);
  });

  it("refuses a list with a non-positive entry", () => {
    expect(() => parseBookArgs(["--max-concurrent-jobs", "1,0"], defaults, "book-100")).toThrow(
      /max-concurrent-jobs/,
    );
  });
});

describe("percentile", () => {
  it("is the nearest rank", () => {
    const values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 95)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });
});
