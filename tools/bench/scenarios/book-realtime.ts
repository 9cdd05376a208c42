import { parseBookArgs, runBookScenario } from "../bookBench.js";
import { SEED_BOOK_CHAPTERS } from "../seedBook.js";

/**
 * The old way: the seed book one chapter at a time through the realtime endpoint (mode realtime,
 * concurrency 1), so book-batch has a baseline. Same options as book-batch. Time scale 1: the emulator's
 * realtime endpoint has no simulated latency, so its service time is modelled and added (see bookBench.ts).
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  return runBookScenario(
    parseBookArgs(
      args,
      {
        chapters: SEED_BOOK_CHAPTERS,
        mode: "realtime",
        maxConcurrentJobs: 1,
        timeScale: 1,
        outputFormat: "audio-16khz-32kbitrate-mono-mp3",
        audioMode: "fast",
        wordBoundaries: true,
        timeoutSeconds: 3_600,
      },
      "book-realtime",
    ),
  );
}
