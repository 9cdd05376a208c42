import type { PipelineDeps } from "./deps.js";
import { isBracket } from "./polling.js";
import type { ServiceRate, ThroughputKind, ThroughputRecord } from "./runState.js";

/*
 * The service's throughput as earlier runs measured it: the poll plan's prior for a run's first job, which
 * otherwise is found only to within a doubling step (src/pipeline/polling.ts). One record for the whole
 * deployment (the service's speed is not a project's), merged by each collect of a job whose lane had a
 * measured bracket; read once by planning into the run's tuning, so replays see the same prior.
 */

/**
 * How long measurements keep narrowing each other. Every bracket a run measures is consistent with the
 * service's speed when it was measured; intersected with newer ones, an old bracket can keep a narrow slice
 * that a service drifting with its region's load (hours, a daily cycle) no longer matches while still
 * overlapping it. Past this age (counted from the oldest bracket of the intersection) the newest bracket
 * starts a new record: a lane of several jobs measures within a few percent, so little is lost, and a book's
 * run (about half an hour) and the runs of one working session fit well inside it.
 */
export const PRIOR_MERGE_MAX_AGE_MS = 6 * 60 * 60 * 1000;

/** Conditional writes tried before giving up (the collects of a wave's lanes write at about the same time). */
export const THROUGHPUT_WRITE_ATTEMPTS = 5;

/** The rate the measuring runs left, if any (an unreadable record is no prior, never an error). */
export async function readThroughputPrior(
  deps: PipelineDeps,
  kind: ThroughputKind = "jobs",
): Promise<ServiceRate | undefined> {
  try {
    return (await deps.runs.readThroughput(kind))?.rate;
  } catch {
    return undefined;
  }
}

/**
 * The record after `measured` (a two-sided bracket, at `now`): the intersection with the stored one when they
 * overlap (narrower, consistent with both), else the new bracket alone (nothing stored, an unusable or stale
 * record, or disjoint brackets: the service changed, or the proportional model does not hold).
 */
export function mergeThroughput(
  stored: ThroughputRecord | undefined,
  measured: Omit<ThroughputRecord, "measuredAt" | "since"> & { rate: ServiceRate & { high: number } },
  now: Date,
): ThroughputRecord {
  const at = now.toISOString();
  const fresh: ThroughputRecord = { ...measured, measuredAt: at, since: at };
  if (!stored || !isBracket(stored.rate)) return fresh;
  const since = stored.since ?? stored.measuredAt;
  const age = now.getTime() - Date.parse(since);
  if (!(age >= 0 && age <= PRIOR_MERGE_MAX_AGE_MS)) return fresh;
  const low = Math.max(stored.rate.low, measured.rate.low);
  const high = Math.min(stored.rate.high, measured.rate.high);
  if (high < low) return fresh;
  return { ...measured, rate: { low, high }, measuredAt: at, since };
}

/**
 * Merges a measured bracket (both bounds; a one-sided rate predicts nothing) into the next runs' prior with a
 * conditional write (ETag), read again and retried when another collect wrote in between. False when the
 * rate is not a bracket or every attempt lost its race (advisory: the prior is only a poll plan's hint).
 */
export async function recordThroughput(
  deps: PipelineDeps,
  measured: Omit<ThroughputRecord, "measuredAt" | "since">,
  kind: ThroughputKind = "jobs",
): Promise<boolean> {
  const { rate } = measured;
  if (!isBracket(rate)) return false;
  for (let attempt = 0; attempt < THROUGHPUT_WRITE_ATTEMPTS; attempt++) {
    const { record, etag } = await deps.runs.readThroughputVersion(kind);
    const merged = mergeThroughput(record, { ...measured, rate }, deps.now());
    if (await deps.runs.replaceThroughput(merged, etag, kind)) return true;
  }
  return false;
}
