import { parseBookArgs, runBookScenario } from "../bookBench.js";
import { SEED_BOOK_CHAPTERS } from "../seedBook.js";

/**
 * The seed book (1,432 chapters, ~15,000 characters each) in batch mode through the whole local stack.
 * Options: --chapters, --time-scale, --format, --audio, --max-concurrent-jobs, --max-chapters-per-job, --timeout.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  return runBookScenario(
    parseBookArgs(
      args,
      {
        chapters: SEED_BOOK_CHAPTERS,
        mode: "batch",
        maxConcurrentJobs: 3,
        timeScale: 100,
        outputFormat: "audio-16khz-32kbitrate-mono-mp3",
        audioMode: "fast",
        wordBoundaries: true,
        timeoutSeconds: 3_600,
      },
      "book-batch",
    ),
  );
}
