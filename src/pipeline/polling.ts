import type { RunTuning } from "./runState.js";

/** The first poll comes after a quarter of the expected time, but never later than this. */
export const FIRST_POLL_CAP_MS = 30_000;

/** A job waits about this long in the service's queue before it starts. */
export const EXPECTED_START_LATENCY_MS = 5_000;

/** How long a job of `characters` is expected to take at the assumed throughput. */
export function expectedJobMs(characters: number, tuning: Pick<RunTuning, "expectedCharsPerSecond">): number {
  return EXPECTED_START_LATENCY_MS + Math.ceil((characters / tuning.expectedCharsPerSecond) * 1000);
}

/**
 * Delay before the next poll: about a quarter of the expected duration (at most 30 s) while the job should
 * still be running, then growing with the overrun, always within [pollMinMs, pollMaxMs].
 */
export function pollDelayMs(
  expectedMs: number,
  elapsedMs: number,
  tuning: Pick<RunTuning, "pollMinMs" | "pollMaxMs">,
): number {
  const first = Math.min(FIRST_POLL_CAP_MS, expectedMs / 4);
  const delay =
    elapsedMs < expectedMs
      ? Math.min(first, Math.max(expectedMs - elapsedMs, tuning.pollMinMs))
      : Math.max(first, (elapsedMs - expectedMs) / 2);
  return Math.round(Math.min(tuning.pollMaxMs, Math.max(tuning.pollMinMs, delay)));
}

/** Past this, a job is deleted and its chapters go to a later job. */
export function jobDeadlineMs(expectedMs: number, tuning: Pick<RunTuning, "jobTimeoutMs">): number {
  return Math.max(tuning.jobTimeoutMs, expectedMs * 6);
}
