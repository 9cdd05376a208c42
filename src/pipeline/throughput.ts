import type { PipelineDeps } from "./deps.js";
import { isBracket } from "./polling.js";
import type { ServiceRate, ThroughputRecord } from "./runState.js";

/*
 * The service's throughput as earlier runs measured it: the poll plan's prior for a run's first job, which
 * otherwise is found only to within a doubling step (src/pipeline/polling.ts). One record for the whole
 * deployment (the service's speed is not a project's), overwritten by each collect of a job whose lane had
 * a measured bracket; read once by planning into the run's tuning, so replays see the same prior.
 */

/** The rate the last measuring run left, if any (an unreadable record is no prior, never an error). */
export async function readThroughputPrior(deps: PipelineDeps): Promise<ServiceRate | undefined> {
  try {
    return (await deps.runs.readThroughput())?.rate;
  } catch {
    return undefined;
  }
}

/** Records a measured bracket (both bounds; a one-sided rate predicts nothing) as the next runs' prior. */
export async function recordThroughput(
  deps: PipelineDeps,
  measured: Omit<ThroughputRecord, "measuredAt">,
): Promise<boolean> {
  if (!isBracket(measured.rate)) return false;
  const record: ThroughputRecord = { ...measured, measuredAt: deps.now().toISOString() };
  await deps.runs.writeThroughput(record);
  return true;
}
