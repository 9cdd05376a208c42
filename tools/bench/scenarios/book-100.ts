import { parseBookArgs, runBookScenario } from "../bookBench.js";
import { type Target, withTargets } from "../targets.js";

/** The first 100 chapters of the seed book in batch mode (same options as book-batch). */
/** Issue #10's limits for `book-100` on its defaults. */
const BOOK_100_TARGETS: Target[] = [
  { field: "speechRequests", max: 6 },
  { field: "floorRatio", max: 1.05 },
  { field: "billedInputs", equals: "chapters" },
];

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const result = await runBookScenario(
    parseBookArgs(
      args,
      {
        chapters: 100,
        mode: "batch",
        maxConcurrentJobs: 3,
        timeScale: 50,
        outputFormat: "audio-16khz-32kbitrate-mono-mp3",
        audioMode: "fast",
        wordBoundaries: true,
        timeoutSeconds: 1_200,
      },
      "book-100",
    ),
  );
  return withTargets(result, args, BOOK_100_TARGETS);
}
