import { type BookBenchResult, parseBookArgs, runBookBench, summaryTable } from "../bookBench.js";
import { SEED_BOOK_CHAPTERS } from "../seedBook.js";

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * book-realtime and book-batch in one process, one after the other on fresh stacks with the same emulator
 * model, printed side by side. `speedup` = realtime simulated wall ÷ batch simulated wall (how much sooner
 * the book is narrated); `requestRatio` = realtime Speech requests ÷ batch Speech requests.
 * Options as book-batch (`--chapters`, `--format`, …) apply to both; `--time-scale` to the batch run only
 * (the realtime run keeps scale 1: its service time is modelled, see bookBench.ts).
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const shared = {
    chapters: SEED_BOOK_CHAPTERS,
    maxConcurrentJobs: 3,
    outputFormat: "audio-16khz-32kbitrate-mono-mp3",
    audioMode: "fast" as const,
    wordBoundaries: true,
    timeoutSeconds: 3_600,
  };
  const realtimeArgs = stripOption(stripOption(args, "--time-scale"), "--max-concurrent-jobs");
  const [realtimeConfig] = parseBookArgs(
    realtimeArgs,
    { ...shared, mode: "realtime", maxConcurrentJobs: 1, timeScale: 1 },
    "book-compare.realtime",
  );
  const [batchConfig] = parseBookArgs(
    args,
    { ...shared, mode: "batch", timeScale: 100 },
    "book-compare.batch",
  );
  if (!realtimeConfig || !batchConfig || realtimeConfig.mode !== "realtime" || batchConfig.mode !== "batch")
    throw new Error("book-compare takes one configuration (no sweep lists, no --mode).");
  process.stderr.write("--- book-realtime\n");
  const realtime: BookBenchResult = await runBookBench(realtimeConfig);
  process.stderr.write("--- book-batch\n");
  const batch: BookBenchResult = await runBookBench(batchConfig);
  const speedup = round2(realtime.simulatedWallSeconds / batch.simulatedWallSeconds);
  const requestRatio = round2(realtime.speechRequests / batch.speechRequests);
  process.stdout.write(
    `${summaryTable([realtime, batch])}\n` +
      `speedup ${speedup}× (simulated wall ${round2(realtime.simulatedWallSeconds / 3600)} h vs ${round2(batch.simulatedWallSeconds / 3600)} h), ` +
      `requestRatio ${requestRatio} (${realtime.speechRequests} vs ${batch.speechRequests} Speech requests)\n`,
  );
  return {
    chapters: batch.chapters,
    speedup,
    requestRatio,
    serviceSpeedup: round2(realtime.serviceSeconds / batch.serviceSeconds),
    realtime,
    batch,
    limits: [
      "speedup compares simulated wall times: batch = real wall × its time scale; realtime = real wall (scale 1) + its modelled service time (characters ÷ EMULATOR_CHARS_PER_SECOND, one request at a time)",
      "both runs use the emulator's model, not Azure; see each run's own limits",
    ],
  };
}

/** Drops `--name value` / `--name=value` from an argument list. */
function stripOption(args: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === name) i++;
    else if (!arg.startsWith(`${name}=`)) out.push(arg);
  }
  return out;
}
