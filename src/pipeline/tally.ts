import { z } from "zod";
import type { ChapterOutcome } from "./runState.js";

/** Pure (no I/O): shared by the collecting activities and the deterministic orchestrators. */

/** Counts a job's collection reports to the orchestrator (activity results, the `job-finished` event). */
export const jobTallySchema = z.object({
  succeeded: z.number().int().nonnegative(),
  /** Given up for good (after the realtime fallback). */
  failed: z.number().int().nonnegative(),
  /** Going to a later batch job. */
  retry: z.number().int().nonnegative(),
  /** Going to the realtime fallback. */
  realtime: z.number().int().nonnegative(),
  audioDurationMs: z.number().nonnegative(),
  billableCharacters: z.number().nonnegative(),
  speechRequests: z.number().int().nonnegative(),
});
export type JobTally = z.infer<typeof jobTallySchema>;

export function emptyTally(): JobTally {
  return {
    succeeded: 0,
    failed: 0,
    retry: 0,
    realtime: 0,
    audioDurationMs: 0,
    billableCharacters: 0,
    speechRequests: 0,
  };
}

/** Counts one chapter's outcome into a tally (collect and realtime activities). */
export function addOutcome(tally: JobTally, outcome: ChapterOutcome): JobTally {
  if (outcome.status === "succeeded") {
    tally.succeeded++;
    tally.audioDurationMs += outcome.durationMs ?? 0;
  } else {
    tally[outcome.status]++;
  }
  // What Speech billed, whatever the status: a realtime chapter that failed part-way paid for its first requests.
  tally.billableCharacters += outcome.billableCharacters ?? 0;
  tally.speechRequests += outcome.speechRequests ?? 0;
  return tally;
}

/** Adds one tally into another (the orchestrators sum lanes and chapters). */
export function addTally(into: JobTally, more: JobTally): JobTally {
  into.succeeded += more.succeeded;
  into.failed += more.failed;
  into.retry += more.retry;
  into.realtime += more.realtime;
  into.audioDurationMs += more.audioDurationMs;
  into.billableCharacters += more.billableCharacters;
  into.speechRequests += more.speechRequests;
  return into;
}
