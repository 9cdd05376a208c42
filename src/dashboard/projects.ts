import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import { mapLimit } from "../concurrency.js";
import { findStatus } from "../http/durableRunControl.js";
import { statusBody } from "../http/synthesis.js";
import type { ProjectInput } from "../pipeline/contracts.js";
import type { PipelineDeps } from "../pipeline/deps.js";
import { type Manifest, manifestSchema } from "../pipeline/manifest.js";
import { projectInstanceId } from "../pipeline/names.js";
import { projectIdSchema } from "../pipeline/options.js";
import { listProject } from "../pipeline/planning/planRun.js";
import { type ChapterCounters, emptyChapterCounters } from "../pipeline/runProgress.js";
import { audioPaths } from "../pipeline/runState.js";
import { isNotFound, readJson } from "../storage/blobs.js";

/**
 * `GET /api/projects` (CONTRACT §8): every project found in the chapters container with the summary of
 * its last run, from the Durable status (live counters) and the manifest (billing, times).
 */
export interface ProjectSummary {
  projectId: string;
  /** Durable runtime status of the project's instance; null when it was never started. */
  runtimeStatus: string | null;
  phase: string | null;
  runId: string | null;
  chapters: ChapterCounters;
  startedAt: string | null;
  completedAt: string | null;
  billableCharacters: number;
  /** Billed characters at `PRICE_PER_MILLION_CHARACTERS`. */
  cost: Cost;
}

export interface Cost {
  amount: number;
  currency: "USD";
  pricePerMillionCharacters: number;
}

export const ACTIVE_RUNTIME_STATUSES = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);

export function costOf(deps: PipelineDeps, billableCharacters: number): Cost {
  const price = deps.settings.PRICE_PER_MILLION_CHARACTERS;
  return {
    amount: Math.round((billableCharacters / 1_000_000) * price * 10_000) / 10_000,
    currency: "USD",
    pricePerMillionCharacters: price,
  };
}

/** Project ids: the first path segment of the chapters container's blobs (valid ids only). */
export async function listProjectIds(deps: PipelineDeps): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const item of deps.storage.chapters.listBlobsByHierarchy("/")) {
      if (item.kind !== "prefix") continue;
      const id = item.name.replace(/\/$/, "");
      if (projectIdSchema.safeParse(id).success) ids.push(id);
    }
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return ids.sort();
}

/** The project's manifest, or undefined when there is none (or it is not a manifest). */
export async function readManifest(deps: PipelineDeps, projectId: string): Promise<Manifest | undefined> {
  const raw = await readJson(deps.storage.audio, audioPaths.manifest(projectId)).catch((error: unknown) => {
    if (isNotFound(error) || error instanceof SyntaxError) return undefined;
    throw error;
  });
  const parsed = manifestSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/**
 * When a cancelled run stopped: the cancel endpoint's marker (wall clock). Durable's lastUpdatedTime is
 * the fallback only: under the local host it runs on the scaled orchestration clock.
 */
export async function cancelledAt(
  deps: PipelineDeps,
  projectId: string,
  runId: string,
): Promise<string | undefined> {
  return deps.runs.cancelledAt({ projectId, runId }).catch(() => undefined);
}

/**
 * The run a project's instance is on: its custom status, else its input (a run still Pending has published
 * no custom status yet). Needs the status read with `showInput`.
 */
export function runIdOf(status: DurableOrchestrationStatus | undefined): string | undefined {
  const progress = status?.customStatus as { runId?: string } | null | undefined;
  return progress?.runId ?? (status?.input as Partial<ProjectInput> | undefined)?.runId;
}

/** The run the dashboard shows, for the project list and the run view alike. */
export interface CurrentRun {
  /** The status endpoint's view of the instance; undefined when it was never started (or was purged). */
  live: ReturnType<typeof statusBody> | undefined;
  runId: string | undefined;
  /** The manifest, only when it is of this run (a new run's first moments still find the last one's). */
  current: Manifest | undefined;
  ended: boolean;
  phase: string | null;
}

export function currentRun(
  projectId: string,
  status: DurableOrchestrationStatus | undefined,
  manifest: Manifest | undefined,
): CurrentRun {
  const live = status ? statusBody(projectId, status) : undefined;
  const runId = runIdOf(status) ?? manifest?.runId;
  const current = manifest && manifest.runId === runId ? manifest : undefined;
  return {
    live,
    runId,
    current,
    ended: live ? !ACTIVE_RUNTIME_STATUSES.has(live.runtimeStatus) : true,
    phase: live?.phase ?? (current?.status === "completed" ? "completed" : null),
  };
}

/** When the run ended (null while it runs): the manifest's time, else the cancel marker's, else Durable's. */
export function completedAtOf(run: CurrentRun, stoppedAt: string | undefined): string | null {
  return run.ended
    ? (run.current?.totals.completedAt ?? stoppedAt ?? run.live?.lastUpdatedTime ?? null)
    : null;
}

/** The cancel marker's time of a terminated run (undefined for any other). */
export async function stoppedAtOf(deps: PipelineDeps, projectId: string, run: CurrentRun) {
  return run.ended && run.live?.runtimeStatus === "Terminated" && run.runId
    ? await cancelledAt(deps, projectId, run.runId)
    : undefined;
}

/** One project's summary from its status (may be absent) and manifest (may be absent or of an older run). */
export function summarize(
  deps: PipelineDeps,
  projectId: string,
  status: DurableOrchestrationStatus | undefined,
  manifest: Manifest | undefined,
  stoppedAt?: string,
): ProjectSummary {
  const run = currentRun(projectId, status, manifest);
  const { live, current } = run;
  const chapters = live?.runId
    ? live.chapters
    : current
      ? {
          total: current.totals.chapters,
          succeeded: current.totals.succeeded,
          failed: current.totals.failed,
          rejected: current.totals.rejected,
          unchanged: current.totals.unchanged,
          pending: current.totals.pending,
        }
      : emptyChapterCounters();
  const billableCharacters = current?.totals.billableCharacters ?? 0;
  return {
    projectId,
    runtimeStatus: live?.runtimeStatus ?? null,
    phase: run.phase,
    runId: run.runId ?? null,
    chapters,
    startedAt: current?.totals.startedAt ?? live?.createdTime ?? null,
    completedAt: completedAtOf(run, stoppedAt),
    billableCharacters,
    cost: costOf(deps, billableCharacters),
  };
}

export async function listProjects(deps: PipelineDeps, client: DurableClient): Promise<ProjectSummary[]> {
  const ids = await listProjectIds(deps);
  return mapLimit(ids, 8, async (projectId) => {
    const [status, manifest] = await Promise.all([
      findStatus(client, projectInstanceId(projectId), true),
      readManifest(deps, projectId),
    ]);
    const stoppedAt = await stoppedAtOf(deps, projectId, currentRun(projectId, status, manifest));
    const summary = summarize(deps, projectId, status, manifest, stoppedAt);
    // Never run: the chapters waiting in the container, all pending.
    if (!status && !manifest) {
      const total = (await listProject(deps, projectId)).chapters.length;
      summary.chapters = { ...emptyChapterCounters(), total, pending: total };
    }
    return summary;
  });
}
