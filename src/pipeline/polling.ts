import type { RunTuning } from "./planning/schema.js";
import type { ServiceRate } from "./runState.js";

export type { ServiceRate };

/*
 * When to poll a batch job. Pure and deterministic: orchestrators call it with elapsed times taken from
 * `currentUtcDateTime` and a throughput learned from this run's finished jobs, carried forward in
 * orchestration inputs (never read from storage), so a replay computes the same timers. A run's first
 * job may have a prior instead: the throughput earlier runs measured, read once by planning into the
 * run's tuning (`priorRate`, saved in plan.json, so replays see the same one).
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
 * A job with only a prior (no rate measured on this run) is first polled this share before the prior's
 * earliest predicted end: seen unfinished there, the run gets its own bracket from the next poll (at the
 * prior's late end); seen done, the service is faster than it was, and the run learns that instead.
 */
export const PRIOR_PROBE_MARGIN = 0.01;

/**
 * The run's first watched job (the first-wave probe) searches its prior's window in at most this many equal
 * steps after the window's first poll, each at least `pollMinMs`: every lane and the run's first video
 * messages wait for that job, so it is worth a few polls (other jobs keep one or two: the request budget).
 */
export const PROBE_WINDOW_STEPS = 5;

/**
 * A job the service timed itself (`serviceMs`) is measured to within its submit's length, not a poll
 * interval; its bracket is still widened this share either way, since jobs of one run differ by a few
 * percent in throughput (in the emulator, the same-sized jobs of `book-batch` by up to ~3 %): a bracket
 * exactly one job wide would have the next one seen late, after a back-off, about every other time.
 */
export const SERVICE_RATE_MARGIN = 0.03;

/**
 * Narrows a finished job's end, as its polls bracket it (unfinished at `unfinishedMs`, done at `doneMs`, both
 * elapsed since `submittedAt`), with the service's own duration: `submittedAt` is taken when the submit
 * returned, so the job was created at most `submitMs` before it and ended within [serviceMs − submitMs,
 * serviceMs] of it. Widened by `SERVICE_RATE_MARGIN`, never beyond the polls' bracket; without a usable
 * `serviceMs` (older services, a job deleted meanwhile, clocks that disagree), the polls' bracket as it is.
 */
export function endBracket(
  unfinishedMs: number,
  doneMs: number,
  serviceMs: number | undefined,
  submitMs: number | undefined,
): { unfinishedMs: number; doneMs: number } {
  if (serviceMs === undefined || !(serviceMs > 0)) return { unfinishedMs, doneMs };
  // Without the submit's length the job may have been created any time before `submittedAt`.
  const earliest = submitMs === undefined ? 0 : (serviceMs - submitMs) * (1 - SERVICE_RATE_MARGIN);
  const latest = serviceMs * (1 + SERVICE_RATE_MARGIN);
  const narrowed = { unfinishedMs: Math.max(unfinishedMs, earliest), doneMs: Math.min(doneMs, latest) };
  return narrowed.doneMs > narrowed.unfinishedMs ? narrowed : { unfinishedMs, doneMs };
}

/** Relative gap under which two brackets that miss each other are taken to meet (timer rounding). */
const ROUNDING_SLACK = 1e-4;

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
  if (high !== undefined && high < low) {
    // Brackets that miss each other by a rounding (timers fire on whole milliseconds, after the minimum
    // interval) meet at a point; disjoint ones say the proportional model does not hold (queueing, a
    // different job shape): trust the newest.
    if (high >= low * (1 - ROUNDING_SLACK)) return { low, high: low };
    return measured;
  }
  return { low, ...(high !== undefined ? { high } : {}) };
}

export interface PollPlanInput {
  characters: number;
  /** Elapsed since submission now. */
  elapsedMs: number;
  /** Elapsed at the last poll that saw the job unfinished (0 before the first poll). */
  unfinishedMs: number;
  /** Measured on this run's finished jobs. */
  rate?: ServiceRate | undefined;
  /** The run's first watched job (the first-wave probe): a prior's window is searched in fine steps. */
  probe?: boolean | undefined;
  /** The run's pilot job (planning/pilot.ts): its prior is the pilots' own; with none, it is polled closely. */
  pilot?: boolean | undefined;
  tuning: Pick<
    RunTuning,
    "pollMinMs" | "pollMaxMs" | "expectedCharsPerSecond" | "priorRate" | "pilotPriorRate" | "pilotPollMs"
  >;
}

/**
 * A pilot nothing is known about is first polled as any job is (a quarter of the default expectation, at
 * most `FIRST_POLL_CAP_MS`), then every `pilotPollMs` (`PILOT_POLL_SECONDS`, else `pollMinMs`) while that is
 * more than a `PILOT_BACKOFF`-th of the elapsed time: a pilot (a few chapters, about a minute) is seen at
 * most a tenth of its age late (3-4 s), in a handful of polls the first time; a stuck one costs a poll per
 * tenth of its age, not one every few seconds.
 */
export const PILOT_BACKOFF = 10;

/**
 * Delay until the next poll. With a measured rate, the job's end is predicted within
 * [characters / high, characters / low]: a narrow prediction is polled at its late end (done at the first
 * poll), a wide one at its middle; past the prediction, polls back off by a quarter of the elapsed time,
 * within [pollMinMs, pollMaxMs]. With only a prior (earlier runs' rate), the first poll comes just before
 * the prior's window (`PRIOR_PROBE_MARGIN`); a narrow window is then polled at its late end, a wide one (a
 * single cold wave's bracket) from its start with the lateness doubling from `pollMinMs`, up to the late end;
 * the run's first watched job (`probe`) searches either in `PROBE_WINDOW_STEPS` equal steps of at least
 * `pollMinMs` instead;
 * past that the service is slower than it was, and polls back off by a quarter of the elapsed time (uncapped:
 * a far slower service costs a few polls, never one a minute for hours, and is seen at most 25 % late). With
 * nothing at all,
 * polls double the elapsed time from a first poll at a quarter of the default expectation (at most 60 s),
 * so a first job of any size costs a few polls; a pilot (`pilot`, its prior the pilots' own) is polled every
 * `pilotPollMs` or a tenth of its age after its first poll instead (`PILOT_BACKOFF`): the run's first videos
 * wait for it.
 */
export function nextPollDelayMs(input: PollPlanInput): number {
  const { characters, elapsedMs, unfinishedMs, tuning } = input;
  // The pilot's own least interval (the run's first videos wait for it), never longer than any job's.
  const minIntervalMs = input.pilot
    ? Math.min(tuning.pollMinMs, tuning.pilotPollMs ?? tuning.pollMinMs)
    : tuning.pollMinMs;
  const prior = input.rate ? undefined : usablePrior(input.pilot ? tuning.pilotPriorRate : tuning.priorRate);
  const rate = input.rate ?? prior;
  let target: number;
  const late = rate ? (characters / rate.low) * 1000 : undefined;
  const probe = prior && late !== undefined ? priorProbeMs(characters, prior, late, tuning) : undefined;
  // (A poll within a millisecond of the window's start is its first: timers fire on whole milliseconds.)
  if (probe !== undefined && unfinishedMs < probe.start - 1) {
    target = probe.start;
  } else if (probe && input.probe && late !== undefined && unfinishedMs < late) {
    // The run's first watched job: every lane and the first video messages wait for it. Its window is
    // searched in equal steps (about pollMinMs, or a fifth of a wider window), so it is seen at most one
    // step late (a narrow window polled only at its late end costs up to 5 % of the job; a doubling search
    // of a wide one, up to the time past the window's start) and its bracket is one step wide. The steps
    // end at the late end, on a grid from the window's start; the last poll counts as the grid point
    // nearest to it (timers fire on whole milliseconds, or a little late).
    const window = late - probe.start;
    const steps = Math.max(1, Math.min(PROBE_WINDOW_STEPS, Math.floor(window / tuning.pollMinMs)));
    const step = window / steps;
    target = Math.min(late, probe.start + (Math.round((unfinishedMs - probe.start) / step) + 1) * step);
  } else if (probe?.wide && late !== undefined && unfinishedMs < late) {
    // A wide prior (one cold wave's doubling bracket spans a factor of two): its late end could be minutes
    // after the job. The lateness past the probe doubles from the minimum interval instead, up to the late
    // end: a job found d after the probe is seen at most max(pollMinMs, d) late, in about log2(d / pollMinMs)
    // more polls.
    const lateness = Math.max(tuning.pollMinMs, unfinishedMs - probe.start);
    target = Math.min(late, unfinishedMs + lateness);
  } else if (rate && late !== undefined && unfinishedMs < late) {
    const early = Math.max(unfinishedMs, rate.high ? (characters / rate.high) * 1000 : 0);
    const narrow = late - early <= Math.max(tuning.pollMinMs, late * PREDICTION_TOLERANCE);
    target = narrow ? late : (early + late) / 2;
  } else if (rate && late !== undefined) {
    // Past the prediction: the lateness doubles with each poll (from the tolerance, so a job just a little
    // late is seen a little late), until steps reach a quarter of the elapsed time. Within a run the steps
    // stop at pollMaxMs; past a prior (the service is slower than it was), they go on growing, so a service
    // far slower than the prior costs a few polls, never one a minute for hours.
    const step = Math.max(
      tuning.pollMinMs,
      late * PREDICTION_TOLERANCE,
      Math.min(unfinishedMs - late, unfinishedMs / 4),
    );
    target = unfinishedMs + (prior ? step : Math.min(tuning.pollMaxMs, step));
  } else {
    const first = Math.min(FIRST_POLL_CAP_MS, expectedJobMs(characters, tuning) / 4);
    if (!input.pilot) target = Math.max(first, unfinishedMs * 2);
    else if (unfinishedMs > 0) target = unfinishedMs + Math.max(minIntervalMs, unfinishedMs / PILOT_BACKOFF);
    else target = first;
  }
  return Math.round(Math.max(minIntervalMs, target - elapsedMs));
}

/**
 * Where a prior's window starts for a job of `characters` (the first poll, `PRIOR_PROBE_MARGIN` before its
 * early end), and whether it is wider than the prediction tolerance (then it is searched from there).
 */
function priorProbeMs(
  characters: number,
  prior: ServiceRate & { high: number },
  late: number,
  tuning: Pick<RunTuning, "pollMinMs">,
): { start: number; wide: boolean } {
  const early = (characters / prior.high) * 1000;
  return {
    // No later than pollMinMs before the late end: a window narrower than that is still polled at its end
    // (the poll after the first comes pollMinMs later at the soonest).
    start: Math.max(0, Math.min(early * (1 - PRIOR_PROBE_MARGIN), late - tuning.pollMinMs)),
    wide: late - early > Math.max(tuning.pollMinMs, late * PREDICTION_TOLERANCE),
  };
}

/** A rate with both bounds, low > 0 and high ≥ low: what a prior must be to predict anything. */
export function isBracket(rate: ServiceRate | undefined): rate is ServiceRate & { high: number } {
  return rate !== undefined && rate.low > 0 && rate.high !== undefined && rate.high >= rate.low;
}

function usablePrior(prior: ServiceRate | undefined): (ServiceRate & { high: number }) | undefined {
  return isBracket(prior) ? prior : undefined;
}
