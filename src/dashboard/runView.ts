import type { DurableClient } from "durable-functions";
import { mapLimit } from "../concurrency.js";
import { findStatus } from "../http/durableRunControl.js";
import type { PipelineDeps } from "../pipeline/deps.js";
import type { Manifest } from "../pipeline/manifest.js";
import { jobInstanceId, projectInstanceId } from "../pipeline/names.js";
import type { JobSpec, Plan } from "../pipeline/planning/schema.js";
import type { ChapterOutcome } from "../pipeline/runState.js";
import type { RunRef, StoredOutcome, StoredSubmission } from "../pipeline/runStore.js";
import { jobNumberOfSynthesisId } from "../speech/ids.js";
import { type Cost, completedAtOf, costOf, currentRun, readManifest, stoppedAtOf } from "./projects.js";

/**
 * Read model of one project's current run for the dashboard (`GET /api/projects/{projectId}/progress`):
 * one entry per chapter with its live state and a timeline of jobs. Built only from what the pipeline
 * already stores (run state blobs of `runState.ts`, the manifest, Durable statuses); it writes nothing.
 */

/** Chapter states shown on the grid. `running` = in a job that is in flight now. */
export type CellStatus = "pending" | "running" | "succeeded" | "unchanged" | "failed" | "rejected";

/** Compact per-chapter entry (1,432 of them travel on every refresh): absent fields are unknown. */
export interface ChapterCell {
  id: string;
  status: CellStatus;
  /** Job the chapter is in (latest), its attempts so far, its mode. */
  job?: number;
  attempts?: number;
  mode?: "batch" | "realtime";
  reason?: string;
  durationMs?: number;
  characters: number;
  hasAudio?: boolean;
}

/**
 * One job on the timeline. Times are storage timestamps (wall clock), never Durable ones: the local host's
 * orchestration clock may run scaled, and the pipeline's own manifest times are wall-clock too.
 */
export interface JobView {
  jobNumber: number;
  mode: "batch" | "realtime";
  chapters: number;
  characters: number;
  /** `planned` (waiting for a slot), `running`, `completed`, `failed`, `terminated`, `not-run`. */
  state: string;
  /** Job list written (planning or retry planning). */
  plannedAt: string | null;
  /** Batch job created at the service (seen while its submitted marker exists; null when not seen). */
  submittedAt: string | null;
  /** First and (once the job ended) last chapter outcome stored. */
  collectingAt: string | null;
  collectedAt: string | null;
}

export interface RunView {
  projectId: string;
  runId: string | null;
  runtimeStatus: string | null;
  phase: string | null;
  mode: string | null;
  voice: string | null;
  outputFormat: string | null;
  startedAt: string | null;
  completedAt: string | null;
  now: string;
  counters: Record<CellStatus, number> & { total: number };
  billableCharacters: number;
  cost: Cost;
  /** From the chapters finished so far in this run; null until there is something to go on. */
  throughput: { chaptersPerMinute: number; etaSeconds: number | null } | null;
  chapters: ChapterCell[];
  jobs: JobView[];
}

/**
 * Submission times seen while a job's marker existed (the marker is deleted once the job is deleted at
 * the service). Kept per worker so the timeline keeps them; lost on restart, then `startedAt` stands in.
 */
const seenSubmissions = new Map<string, string>();
/** Job lists never change once written: cached per worker (bounded). */
const jobSpecCache = new Map<string, JobSpec>();
const JOB_CACHE_LIMIT = 2_000;

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  if (cache.size >= JOB_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}

const iso = (d: Date | string | undefined | null) => (d ? new Date(d).toISOString() : null);

async function readJobSpecs(deps: PipelineDeps, projectId: string, runId: string) {
  const stored = await deps.runs.listJobs({ projectId, runId });
  return mapLimit(stored, 8, async ({ jobNumber, writtenAt }) => {
    const key = `${projectId}/${runId}/${jobNumber}`;
    let spec = jobSpecCache.get(key);
    if (!spec) {
      spec = await deps.runs.readJob({ projectId, runId, jobNumber });
      if (spec) remember(jobSpecCache, key, spec);
    }
    return spec ? { spec, plannedAt: iso(writtenAt) } : undefined;
  });
}

export async function buildRunView(
  deps: PipelineDeps,
  client: DurableClient,
  projectId: string,
): Promise<RunView | undefined> {
  const instanceId = projectInstanceId(projectId);
  const [status, manifest] = await Promise.all([
    findStatus(client, instanceId, true),
    readManifest(deps, projectId),
  ]);
  if (!status && !manifest) return undefined;
  const run = currentRun(projectId, status, manifest);
  const { live, runId, current } = run;
  const plan = runId ? await deps.runs.readPlan({ projectId, runId }) : undefined;
  const specs =
    runId && plan
      ? (await readJobSpecs(deps, projectId, runId))
          .filter((s) => s !== undefined)
          .sort((a, b) => a.spec.jobNumber - b.spec.jobNumber)
      : [];
  const outcomesStored = runId && plan ? await deps.runs.listStoredOutcomes({ projectId, runId }) : [];
  const submitted = runId && plan ? await deps.runs.listSubmitted({ projectId, runId }) : [];
  const jobStatuses = await jobRuntimeStatuses(
    client,
    instanceId,
    runId ?? "",
    specs.map((s) => s.spec.jobNumber),
    new Set(current?.mergedJobs ?? []),
    plan?.options.maxConcurrentJobs ?? 3,
  );

  const jobs = buildJobs(specs, jobStatuses, outcomesStored, submitted, runId ?? "", projectId, run.ended);
  const unmergedOutcomes = await readUnmergedOutcomes(
    deps,
    { projectId, runId: runId ?? "" },
    outcomesStored,
    current,
  );
  const chapters = buildCells(plan, current, specs, jobs, unmergedOutcomes);

  const counters = {
    total: chapters.length,
    pending: 0,
    running: 0,
    succeeded: 0,
    unchanged: 0,
    failed: 0,
    rejected: 0,
  };
  for (const c of chapters) counters[c.status]++;
  const billableCharacters =
    (current?.totals.billableCharacters ?? 0) +
    unmergedOutcomes.reduce((n, o) => n + (o.billableCharacters ?? 0), 0);
  const now = deps.now();
  const startedAt = current?.totals.startedAt ?? plan?.createdAt ?? live?.createdTime ?? null;
  const completedAt = completedAtOf(run, await stoppedAtOf(deps, projectId, run));
  return {
    projectId,
    runId: runId ?? null,
    runtimeStatus: live?.runtimeStatus ?? null,
    phase: run.phase,
    mode: plan?.options.mode ?? current?.mode ?? null,
    voice: plan?.options.voice ?? current?.voice ?? null,
    outputFormat: plan?.options.outputFormat ?? current?.outputFormat ?? null,
    startedAt,
    completedAt,
    now: now.toISOString(),
    counters,
    billableCharacters,
    cost: costOf(deps, billableCharacters),
    throughput: throughputOf(chapters, startedAt, completedAt ?? now.toISOString()),
    chapters,
    jobs,
  };
}

/** Chapters finished in this run per minute since it started, and the time left for the rest at that pace. */
export function throughputOf(
  chapters: ChapterCell[],
  startedAt: string | null,
  until: string,
): RunView["throughput"] {
  if (!startedAt) return null;
  const done = chapters.filter(
    (c) => c.job !== undefined && (c.status === "succeeded" || c.status === "failed"),
  ).length;
  const minutes = (Date.parse(until) - Date.parse(startedAt)) / 60_000;
  if (done === 0 || !(minutes > 0)) return null;
  const perMinute = done / minutes;
  const remaining = chapters.filter((c) => c.status === "pending" || c.status === "running").length;
  return {
    chaptersPerMinute: Math.round(perMinute * 100) / 100,
    etaSeconds: remaining === 0 ? 0 : Math.round((remaining / perMinute) * 60),
  };
}

/** Final runtime statuses of job sub-orchestrations never change: kept per worker. */
const finalJobStatuses = new Map<string, string>();
const FINAL_RUNTIME = new Set(["Completed", "Failed", "Terminated"]);

/**
 * Runtime status of each job's sub-orchestration (undefined: not started). Merged jobs are completed without
 * asking; the rest are asked in job order, stopping after `concurrency` + 2 in a row that never started (jobs
 * start in order, at most `concurrency` at once), so a book of many small jobs costs a handful of calls.
 */
async function jobRuntimeStatuses(
  client: DurableClient,
  instanceId: string,
  runId: string,
  jobNumbers: number[],
  merged: Set<number>,
  concurrency: number,
): Promise<(string | undefined)[]> {
  const result: (string | undefined)[] = [];
  let notStartedInARow = 0;
  for (const jobNumber of jobNumbers) {
    if (merged.has(jobNumber)) {
      result.push("Completed");
      continue;
    }
    if (notStartedInARow >= concurrency + 2) {
      result.push(undefined);
      continue;
    }
    const id = jobInstanceId(instanceId, runId, jobNumber);
    let runtime = finalJobStatuses.get(id);
    if (!runtime) {
      const status = await findStatus(client, id).catch(() => undefined);
      runtime = status ? String(status.runtimeStatus) : undefined;
      if (runtime && FINAL_RUNTIME.has(runtime)) remember(finalJobStatuses, id, runtime);
    }
    notStartedInARow = runtime ? 0 : notStartedInARow + 1;
    result.push(runtime);
  }
  return result;
}

function buildJobs(
  specs: { spec: JobSpec; plannedAt: string | null }[],
  statuses: (string | undefined)[],
  outcomesStored: StoredOutcome[],
  submitted: StoredSubmission[],
  runId: string,
  projectId: string,
  runEnded: boolean,
): JobView[] {
  const collected = new Map<number, { first: number; last: number }>();
  for (const { jobNumber, writtenAt } of outcomesStored) {
    const at = writtenAt.getTime();
    const range = collected.get(jobNumber);
    collected.set(
      jobNumber,
      range ? { first: Math.min(range.first, at), last: Math.max(range.last, at) } : { first: at, last: at },
    );
  }
  for (const { synthesisId, markedAt } of submitted) {
    const jobNumber = jobNumberOfSynthesisId(synthesisId);
    const at = iso(markedAt);
    if (jobNumber !== undefined && at) {
      const key = `${projectId}/${runId}/${jobNumber}`;
      if (!seenSubmissions.has(key)) remember(seenSubmissions, key, at);
    }
  }
  return specs
    .map(({ spec, plannedAt }, i) => {
      const runtime = statuses[i];
      const range = collected.get(spec.jobNumber);
      const final = runtime === "Completed" || runtime === "Failed" || runtime === "Terminated";
      const state = !runtime
        ? runEnded
          ? "not-run"
          : "planned"
        : runtime === "Completed"
          ? "completed"
          : runtime === "Failed"
            ? "failed"
            : runtime === "Terminated" || runEnded
              ? "terminated"
              : "running";
      return {
        jobNumber: spec.jobNumber,
        mode: spec.mode,
        chapters: spec.chapters.length,
        characters: spec.chapters.reduce((n, c) => n + c.characters, 0),
        state,
        plannedAt,
        submittedAt:
          spec.mode === "batch"
            ? (seenSubmissions.get(`${projectId}/${runId}/${spec.jobNumber}`) ?? null)
            : null,
        collectingAt: range ? new Date(range.first).toISOString() : null,
        collectedAt: range && final ? new Date(range.last).toISOString() : null,
      };
    })
    .sort((a, b) => a.jobNumber - b.jobNumber);
}

/** Outcomes of jobs not yet merged into the manifest (at most a few jobs' worth at any time). */
async function readUnmergedOutcomes(
  deps: PipelineDeps,
  run: RunRef,
  outcomesStored: StoredOutcome[],
  manifest: Manifest | undefined,
): Promise<ChapterOutcome[]> {
  const merged = new Set(manifest?.mergedJobs ?? []);
  const pending = outcomesStored.filter((o) => !merged.has(o.jobNumber));
  const outcomes = await mapLimit(pending, 16, (o) =>
    deps.runs.readOutcome({ ...run, jobNumber: o.jobNumber }, o.chapterId).catch(() => undefined),
  );
  return outcomes.filter((o): o is ChapterOutcome => o !== undefined);
}

export function buildCells(
  plan: Plan | undefined,
  manifest: Manifest | undefined,
  specs: { spec: JobSpec }[],
  jobs: JobView[],
  unmerged: ChapterOutcome[],
): ChapterCell[] {
  const latestJob = new Map<string, { jobNumber: number; attempts: number; mode: "batch" | "realtime" }>();
  for (const { spec } of [...specs].sort((a, b) => a.spec.jobNumber - b.spec.jobNumber)) {
    for (const c of spec.chapters)
      latestJob.set(c.chapterId, { jobNumber: spec.jobNumber, attempts: c.attempts, mode: spec.mode });
  }
  const jobState = new Map(jobs.map((j) => [j.jobNumber, j.state]));
  const latestOutcome = new Map<string, ChapterOutcome>();
  for (const o of unmerged) {
    const seen = latestOutcome.get(o.chapterId);
    if (!seen || seen.jobNumber < o.jobNumber) latestOutcome.set(o.chapterId, o);
  }
  const byId = new Map(manifest?.chapters.map((c) => [c.chapterId, c]));
  const source = plan?.chapters ?? manifest?.chapters ?? [];
  return source.map((planned): ChapterCell => {
    const done = byId.get(planned.chapterId);
    const job = latestJob.get(planned.chapterId);
    const cell: ChapterCell = { id: planned.chapterId, status: "pending", characters: planned.characters };
    if (job) {
      cell.job = job.jobNumber;
      cell.attempts = job.attempts;
      cell.mode = job.mode;
    }
    const finished = done && done.status !== "pending" ? done : undefined;
    const outcome = latestOutcome.get(planned.chapterId);
    if (finished) {
      cell.status = finished.status as CellStatus;
      if (finished.reason) cell.reason = finished.reason;
      if (finished.attempts) cell.attempts = finished.attempts;
      if (finished.mode) cell.mode = finished.mode;
      if (finished.durationMs !== null) cell.durationMs = finished.durationMs;
      if (finished.audioBlob) cell.hasAudio = true;
    } else if (outcome && (!job || outcome.jobNumber >= job.jobNumber)) {
      cell.status =
        outcome.status === "succeeded" ? "succeeded" : outcome.status === "failed" ? "failed" : "pending";
      cell.attempts = outcome.attempts;
      cell.mode = outcome.mode;
      if (outcome.reason) cell.reason = outcome.status === "succeeded" ? undefined : outcome.reason;
      if (outcome.durationMs !== undefined) cell.durationMs = outcome.durationMs;
      if (outcome.audioBlob) cell.hasAudio = true;
    } else if (planned.status !== "pending" && !(done && done.status === "pending")) {
      cell.status = planned.status as CellStatus;
      if (planned.reason) cell.reason = planned.reason;
      if ("audioBlob" in planned && planned.audioBlob) cell.hasAudio = true;
    } else if (job && jobState.get(job.jobNumber) === "running") {
      cell.status = "running";
    }
    if (cell.reason === undefined && done?.reason && cell.status === "pending") cell.reason = done.reason;
    return cell;
  });
}
