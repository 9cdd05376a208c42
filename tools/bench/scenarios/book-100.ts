import { parseBookArgs, runBookScenario } from "../bookBench.js";

/** The first 100 chapters of the seed book in batch mode (same options as book-batch). */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  return runBookScenario(
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
}
