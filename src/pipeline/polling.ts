import type { RunTuning } from "./runState.js";

/*
 * When to poll a batch job. Pure and deterministic: orchestrators call it with elapsed times taken from
 * `currentUtcDateTime` and a throughput learned from this run's finished jobs, carried forward in
 * orchestration inputs (never read from storage), so a replay computes the same timers.
 */

/** The first poll of a job nothing is known about comes after a quarter of the prior's expectation, at most this. */
export const FIRST_POLL_CAP_MS = 60_000;

/** A job waits about this long in the service's queue before it starts. */
export const EXPECTED_START_LATENCY_MS = 5_000;

/**
 * A prediction narrower than this share of the predicted duration (or than `pollMinMs`) is polled at its
 * late end in one request; a wider one is halved first (one more request, a tighter measurement).
 */
export const PREDICTION_TOLERANCE = 0.05;

/** How long a job of `characters` is expected to take at the assumed (prior) throughput. */
export function expectedJobMs(characters: number, tuning: Pick<RunTuning, "expectedCharsPerSecond">): number {
  return EXPECTED_START_LATENCY_MS + Math.ceil((characters / tuning.expectedCharsPerSecond) * 1000);
}

/** Past this, a job is deleted and its chapters go to a later job. */
export function jobDeadlineMs(expectedMs: number, tuning: Pick<RunTuning, "jobTimeoutMs">): number {
  return Math.max(tuning.jobTimeoutMs, expectedMs * 6);
}

/**
 * Throughput of the service as measured on this run's finished jobs, in characters per second from
 * submission to completion (queueing included). Each job brackets its own duration between the last poll
 * that saw it unfinished and the poll that saw it done; the brackets of all jobs seen so far intersect.
 */
export interface ServiceRate {
  /** The job took at most this long per character: throughput at least `low` chars/s. */
  low: number;
  /** ... and at least this long: throughput at most `high` chars/s (absent until a poll saw a job unfinished). */
  high?: number;
}

/** The rate a job of `characters` implies, seen unfinished at `unfinishedMs` and done at `doneMs` after submission. */
export function learnRate(
  known: ServiceRate | undefined,
  characters: number,
  unfinishedMs: number,
  doneMs: number,
): ServiceRate | undefined {
  if (!(characters > 0) || !(doneMs > 0)) return known;
  const measured: ServiceRate = {
    low: (characters / doneMs) * 1000,
    ...(unfinishedMs > 0 ? { high: (characters / unfinishedMs) * 1000 } : {}),
  };
  if (!known) return measured;
  const low = Math.max(known.low, measured.low);
  const highs = [known.high, measured.high].filter((h): h is number => h !== undefined);
  const high = highs.length > 0 ? Math.min(...highs) : undefined;
  // Disjoint brackets: the proportional model does not hold (queueing, a different job shape); trust the newest.
  if (high !== undefined && high < low) return measured;
  return { low, ...(high !== undefined ? { high } : {}) };
}

export interface PollPlanInput {
  characters: number;
  /** Elapsed since submission now. */
  elapsedMs: number;
  /** Elapsed at the last poll that saw the job unfinished (0 before the first poll). */
  unfinishedMs: number;
  rate?: ServiceRate | undefined;
  tuning: Pick<RunTuning, "pollMinMs" | "pollMaxMs" | "expectedCharsPerSecond">;
}

/**
 * Delay until the next poll. With a measured rate, the job's end is predicted within
 * [characters / high, characters / low]: a narrow prediction is polled at its late end (done at the first
 * poll), a wide one at its middle; past the prediction, polls back off by a quarter of the elapsed time,
 * within [pollMinMs, pollMaxMs]. With nothing measured yet, polls double the elapsed time from a first
 * poll at a quarter of the prior's expectation (at most 60 s), so a first job of any size costs a few polls.
 */
export function nextPollDelayMs(input: PollPlanInput): number {
  const { characters, elapsedMs, unfinishedMs, rate, tuning } = input;
  let target: number;
  const late = rate ? (characters / rate.low) * 1000 : undefined;
  if (rate && late !== undefined && unfinishedMs < late) {
    const early = Math.max(unfinishedMs, rate.high ? (characters / rate.high) * 1000 : 0);
    const narrow = late - early <= Math.max(tuning.pollMinMs, late * PREDICTION_TOLERANCE);
    target = narrow ? late : (early + late) / 2;
  } else if (rate && late !== undefined) {
    target = unfinishedMs + Math.min(tuning.pollMaxMs, Math.max(tuning.pollMinMs, unfinishedMs / 4));
  } else {
    const first = Math.min(FIRST_POLL_CAP_MS, expectedJobMs(characters, tuning) / 4);
    target = Math.max(first, unfinishedMs * 2);
  }
  return Math.round(Math.max(tuning.pollMinMs, target - elapsedMs));
}
