import { isNotFound } from "../storage/blobs.js";
import type { PipelineDeps } from "./deps.js";
import { audioPaths } from "./runState.js";

/**
 * Activities run at least once, and a copy can run late: after its run was cancelled, after a newer run
 * of the project started, or after its own run completed. Such a copy must not write a chapter's audio,
 * send a video message or rewrite the manifest. The manifest blob's metadata names the run that owns it
 * (see `manifestOwnerMetadata`), so asking costs one HEAD and one small read.
 */
export type RunEnd = "cancelled" | "superseded" | "completed";

/** Metadata keys on manifest.json: the run that wrote it, when that run was planned, and its status. */
export interface ManifestOwner {
  runId: string;
  startedAt: string;
  status: "running" | "completed";
}

export function manifestOwnerMetadata(owner: ManifestOwner): Record<string, string> {
  return { runid: owner.runId, startedat: owner.startedAt, status: owner.status };
}

/** A run is newer when it was planned later (run ids break a tie; they start with the start time). */
export function isNewerRun(
  other: { runId: string; startedAt: string },
  mine: { runId: string; startedAt: string },
): boolean {
  if (other.runId === mine.runId) return false;
  const a = Date.parse(other.startedAt);
  const b = Date.parse(mine.startedAt);
  return a !== b ? a > b : other.runId > mine.runId;
}

export async function isCancelled(deps: PipelineDeps, projectId: string, runId: string): Promise<boolean> {
  return deps.runs.isCancelled({ projectId, runId });
}

async function manifestOwner(deps: PipelineDeps, projectId: string): Promise<ManifestOwner | undefined> {
  try {
    const properties = await deps.storage.audio.getBlobClient(audioPaths.manifest(projectId)).getProperties();
    const m = properties.metadata ?? {};
    if (!m["runid"] || !m["startedat"]) return undefined;
    return {
      runId: m["runid"],
      startedAt: m["startedat"],
      status: m["status"] === "completed" ? "completed" : "running",
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Why this run must write nothing more, or undefined while it may. */
export async function runEnded(
  deps: PipelineDeps,
  projectId: string,
  runId: string,
): Promise<RunEnd | undefined> {
  // Both read at once: a collect waits for this before its first chapter.
  const [cancelled, owner] = await Promise.all([
    isCancelled(deps, projectId, runId),
    manifestOwner(deps, projectId),
  ]);
  if (cancelled) return "cancelled";
  if (!owner) return undefined;
  if (owner.runId === runId) return owner.status === "completed" ? "completed" : undefined;
  const plan = await deps.runs.readPlan({ projectId, runId });
  if (!plan) return "superseded"; // this run's state is gone: whatever owns the manifest replaced it
  return isNewerRun(owner, { runId, startedAt: plan.createdAt }) ? "superseded" : undefined;
}
