/**
 * The floor of a batch run: the best schedule the emulator's own timing model allows for the same jobs and
 * concurrency. Every slot (maxConcurrentJobs) is busy back to back with zero gaps; jobs are taken in
 * submission order, each onto the slot that frees first (list scheduling). Nothing the pipeline does can
 * finish the same jobs earlier at the service by that model (short of reordering or re-packing jobs).
 */

/** The emulator's service-time model (tools/emulator/synthesisEngine.ts `plan`), in unscaled service milliseconds. */
export interface ServiceModel {
  /** Characters a second one input lane synthesizes (EMULATOR_CHARS_PER_SECOND). */
  charsPerSecond: number;
  /** Inputs of one job synthesized at once (EMULATOR_INPUT_PARALLELISM). */
  inputParallelism: number;
  /** From creation to Running (EMULATOR_START_LATENCY_MS). */
  startLatencyMs: number;
  /** A job runs at least this long (MIN_RUNNING_MS). */
  minRunningMs: number;
}

/**
 * Service seconds of one job by the emulator's model: start latency plus its busiest lane, inputs assigned
 * in order to the least busy of `inputParallelism` lanes (the same rule as SynthesisEngine.plan).
 */
export function modelledJobSeconds(billablePerInput: readonly number[], model: ServiceModel): number {
  const lanes = new Array<number>(
    Math.max(1, Math.min(model.inputParallelism, billablePerInput.length)),
  ).fill(0);
  for (const characters of billablePerInput) {
    const lane = lanes.indexOf(Math.min(...lanes));
    lanes[lane] = (lanes[lane] ?? 0) + characters;
  }
  const processingMs = Math.max(model.minRunningMs, (Math.max(...lanes) / model.charsPerSecond) * 1000);
  return (model.startLatencyMs + processingMs) / 1000;
}

/**
 * Makespan of the durations placed in order, each on the slot that frees first, slots starting together
 * at 0 and never idle while a job waits.
 */
export function listScheduleSeconds(durations: readonly number[], slots: number): number {
  if (!(slots >= 1) || !Number.isInteger(slots))
    throw new Error(`slots must be a positive integer (got ${slots})`);
  const freeAt = new Array<number>(Math.min(slots, Math.max(1, durations.length))).fill(0);
  for (const duration of durations) {
    if (!(duration >= 0)) throw new Error(`a job duration must be ≥ 0 (got ${duration})`);
    const slot = freeAt.indexOf(Math.min(...freeAt));
    freeAt[slot] = (freeAt[slot] ?? 0) + duration;
  }
  return durations.length === 0 ? 0 : Math.max(...freeAt);
}

/** floorSeconds for jobs given as billable characters per input, in submission order. */
export function floorSeconds(
  jobs: readonly (readonly number[])[],
  maxConcurrentJobs: number,
  model: ServiceModel,
): number {
  return listScheduleSeconds(
    jobs.map((inputs) => modelledJobSeconds(inputs, model)),
    maxConcurrentJobs,
  );
}
