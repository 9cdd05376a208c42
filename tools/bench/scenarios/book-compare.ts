import { type BookBenchResult, parseBookArgs, runBookBench, summaryTable } from "../bookBench.js";
import { SEED_BOOK_CHAPTERS } from "../seedBook.js";
import { BOOK_BATCH_TIME_SCALE } from "./book-batch.js";

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * book-realtime and book-batch in one process, one after the other on fresh stacks with the same emulator
 * model, printed side by side. `speedup` = realtime ÷ batch `serviceAndPipelineSeconds` (modelled service time
 * plus the pipeline's real time outside it: how much sooner the book is narrated, with CPU work counted as real
 * seconds in both runs, although the batch run scales its timers); `simulatedWallSpeedup` compares the simulated
 * walls instead (batch CPU work × its scale: pessimistic for batch). `requestRatio` = realtime Speech requests ÷
 * batch Speech requests.
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
    { ...shared, mode: "batch", timeScale: BOOK_BATCH_TIME_SCALE },
    "book-compare.batch",
  );
  if (!realtimeConfig || !batchConfig || realtimeConfig.mode !== "realtime" || batchConfig.mode !== "batch")
    throw new Error("book-compare takes one configuration (no sweep lists, no --mode).");
  process.stderr.write("--- book-realtime\n");
  const realtime: BookBenchResult = await runBookBench(realtimeConfig);
  process.stderr.write("--- book-batch\n");
  const batch: BookBenchResult = await runBookBench(batchConfig);
  const speedup = round2(realtime.serviceAndPipelineSeconds / batch.serviceAndPipelineSeconds);
  const simulatedWallSpeedup = round2(realtime.simulatedWallSeconds / batch.simulatedWallSeconds);
  const requestRatio = round2(realtime.speechRequests / batch.speechRequests);
  process.stdout.write(
    `${summaryTable([realtime, batch])}\n` +
      `speedup ${speedup}× (service + pipeline ${round2(realtime.serviceAndPipelineSeconds / 3600)} h vs ${round2(batch.serviceAndPipelineSeconds / 3600)} h; ` +
      `simulated walls ${simulatedWallSpeedup}×), ` +
      `requestRatio ${requestRatio} (${realtime.speechRequests} vs ${batch.speechRequests} Speech requests)\n`,
  );
  return {
    chapters: batch.chapters,
    speedup,
    requestRatio,
    simulatedWallSpeedup,
    serviceSpeedup: round2(realtime.serviceSeconds / batch.serviceSeconds),
    realtime,
    batch,
    limits: [
      "speedup compares serviceAndPipelineSeconds: the emulator's modelled service time plus each run's real wall time outside it (pipeline CPU and storage counted unscaled in both runs)",
      "simulatedWallSpeedup compares simulated walls: batch = real wall × its time scale (its CPU work multiplied too, pessimistic for batch); realtime = real wall (scale 1) + its modelled service time",
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
