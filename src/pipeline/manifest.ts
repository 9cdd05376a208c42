import { z } from "zod";
import { mapLimit } from "../concurrency.js";
import { isConditionConflict, isNotFound } from "../storage/blobs.js";
import type { WriteManifestInput } from "./contracts.js";
import type { PipelineDeps } from "./deps.js";
import type { Plan } from "./planning/schema.js";
import { isCancelled, isNewerRun, manifestOwnerMetadata } from "./runGuard.js";
import { audioPaths, type ChapterOutcome } from "./runState.js";

/** `manifest.json` (CONTRACT §2). `pending` appears only while a run is in progress. */
export const manifestChapterSchema = z.object({
  chapterId: z.string(),
  index: z.number().int(),
  sourceBlob: z.string(),
  characters: z.number().int(),
  textSha256: z.string(),
  status: z.enum(["succeeded", "failed", "rejected", "unchanged", "pending"]),
  reason: z.string().nullable(),
  audioBlob: z.string().nullable(),
  durationMs: z.number().nullable(),
  sizeBytes: z.number().nullable(),
  batchJobId: z.string().nullable(),
  attempts: z.number().int(),
  mode: z.enum(["batch", "realtime"]).nullable(),
});
export type ManifestChapter = z.infer<typeof manifestChapterSchema>;

export const manifestTotalsSchema = z.object({
  chapters: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  rejected: z.number().int(),
  unchanged: z.number().int(),
  pending: z.number().int(),
  billableCharacters: z.number(),
  audioDurationMs: z.number(),
  batchJobs: z.number().int(),
  speechRequests: z.number().int(),
  startedAt: z.string(),
  completedAt: z.string().nullable(),
});
export type ManifestTotals = z.infer<typeof manifestTotalsSchema>;

export const manifestSchema = z.object({
  projectId: z.string(),
  instanceId: z.string(),
  runId: z.string(),
  title: z.string().optional(),
  voice: z.string(),
  outputFormat: z.string(),
  mode: z.enum(["batch", "realtime"]),
  wordBoundaries: z.boolean(),
  status: z.enum(["running", "completed"]),
  chapters: z.array(manifestChapterSchema),
  ignored: z.array(z.string()),
  /** Job numbers whose outcomes are merged in (so re-merging one is a no-op). */
  mergedJobs: z.array(z.number().int()),
  totals: manifestTotalsSchema,
});
export type Manifest = z.infer<typeof manifestSchema>;

function fromPlan(plan: Plan, startedAt: string): Manifest {
  return {
    projectId: plan.projectId,
    instanceId: plan.instanceId,
    runId: plan.runId,
    ...(plan.options.title ? { title: plan.options.title } : {}),
    voice: plan.options.voice,
    outputFormat: plan.options.outputFormat,
    mode: plan.options.mode,
    wordBoundaries: plan.options.wordBoundaries,
    status: "running",
    chapters: plan.chapters.map((c) => ({
      chapterId: c.chapterId,
      index: c.index,
      sourceBlob: c.sourceBlob,
      characters: c.characters,
      textSha256: c.textSha256,
      status: c.status,
      reason: c.reason ?? null,
      audioBlob: c.audioBlob ?? null,
      durationMs: c.durationMs ?? null,
      sizeBytes: c.sizeBytes ?? null,
      batchJobId: c.batchJobId ?? null,
      attempts: c.attempts ?? 0,
      mode: c.mode ?? null,
    })),
    ignored: plan.ignored,
    mergedJobs: [],
    totals: emptyTotals(plan.chapters.length, startedAt),
  };
}

function emptyTotals(chapters: number, startedAt: string): ManifestTotals {
  return {
    chapters,
    succeeded: 0,
    failed: 0,
    rejected: 0,
    unchanged: 0,
    pending: 0,
    billableCharacters: 0,
    audioDurationMs: 0,
    batchJobs: 0,
    speechRequests: 0,
    startedAt,
    completedAt: null,
  };
}

function applyOutcome(chapter: ManifestChapter, outcome: ChapterOutcome): void {
  chapter.attempts = Math.max(chapter.attempts, outcome.attempts);
  chapter.mode = outcome.mode;
  if (outcome.batchJobId) chapter.batchJobId = outcome.batchJobId;
  if (outcome.status === "succeeded") {
    chapter.status = "succeeded";
    chapter.reason = null;
    chapter.audioBlob = outcome.audioBlob ?? null;
    chapter.durationMs = outcome.durationMs ?? null;
    chapter.sizeBytes = outcome.sizeBytes ?? null;
  } else if (chapter.status !== "succeeded") {
    chapter.status = outcome.status === "failed" ? "failed" : "pending";
    chapter.reason = outcome.reason ?? null;
  }
}

/** Concurrent writers of one manifest (activity copies, a newer run) race; each loser reads and merges again. */
const MAX_WRITE_ATTEMPTS = 20;

interface StoredManifest {
  manifest: Manifest | undefined;
  /** ETag of what was read; undefined when there is no manifest yet. */
  etag: string | undefined;
}

async function readManifest(deps: PipelineDeps, blobName: string): Promise<StoredManifest> {
  try {
    const response = await deps.storage.audio.getBlobClient(blobName).download(0);
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody as NodeJS.ReadableStream)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      parsed = undefined;
    }
    const result = manifestSchema.safeParse(parsed);
    return { manifest: result.success ? result.data : undefined, etag: response.etag };
  } catch (error) {
    if (isNotFound(error)) return { manifest: undefined, etag: undefined };
    throw error;
  }
}

/** Outcomes read at once by the run's final write. */
const OUTCOME_READ_CONCURRENCY = 32;

/**
 * Every outcome of the run in job order (a later job's outcome of a chapter comes after an earlier one's):
 * one listing of the run's outcomes, then each read by name (not listed again job by job).
 */
async function listRunOutcomes(
  deps: PipelineDeps,
  projectId: string,
  runId: string,
): Promise<ChapterOutcome[]> {
  const stored = await deps.runs.listStoredOutcomes({ projectId, runId });
  const inJobOrder = [...stored].sort((a, b) => a.jobNumber - b.jobNumber);
  const outcomes = await mapLimit(inJobOrder, OUTCOME_READ_CONCURRENCY, (o) =>
    deps.runs.readOutcome({ projectId, runId, jobNumber: o.jobNumber }, o.chapterId),
  );
  return outcomes.filter((o): o is ChapterOutcome => o !== undefined);
}

function computeTotals(
  manifest: Manifest,
  input: WriteManifestInput,
  completedAt: string | null,
): ManifestTotals {
  const totals = emptyTotals(manifest.chapters.length, manifest.totals.startedAt);
  for (const c of manifest.chapters) {
    totals[c.status]++;
    // Over the whole book: audio kept from earlier runs counts as well as this run's.
    if (c.status === "succeeded" || c.status === "unchanged") totals.audioDurationMs += c.durationMs ?? 0;
  }
  totals.billableCharacters = input.billableCharacters;
  totals.batchJobs = input.batchJobs;
  totals.speechRequests = input.speechRequests;
  totals.completedAt = completedAt;
  return totals;
}

/**
 * Merges finished jobs' chapter outcomes into `manifest.json` and rewrites it (whole-blob upload, so
 * readers always see a complete document). A read-modify-write under the blob's ETag (`If-Match`, or
 * `If-None-Match: *` for the first write) retried from the read when another writer got there first, so
 * no merge is ever lost. The final write (`completedAt`) rebuilds the chapters from the plan and every
 * outcome the run stored, so a per-job merge that was missed cannot leave a finished chapter pending.
 * A run that was cancelled, superseded by a newer run of the project, or (for a non-final write) has
 * already completed writes nothing and only reports its totals.
 */
export async function writeManifest(deps: PipelineDeps, input: WriteManifestInput): Promise<ManifestTotals> {
  const blobName = audioPaths.manifest(input.projectId);
  let plan: Plan | undefined;
  const readPlan = async () => {
    plan ??= await deps.runs.readPlan(input);
    if (!plan) throw new Error(`Run ${input.runId} has no plan.`);
    return plan;
  };
  for (let attempt = 1; ; attempt++) {
    const stored = await readManifest(deps, blobName);
    const current = stored.manifest;
    const ours = current?.runId === input.runId ? current : undefined;
    let write = !(await isCancelled(deps, input.projectId, input.runId));
    if (current && !ours) {
      const mine = await readPlan();
      const theirs = { runId: current.runId, startedAt: current.totals.startedAt };
      if (isNewerRun(theirs, { runId: input.runId, startedAt: mine.createdAt })) write = false;
    }
    if (ours?.status === "completed" && !input.completedAt) {
      // A late copy of a per-job write: the final write already merged everything.
      return ours.totals;
    }
    // Wall-clock times come from activities: an orchestrator's clock may run scaled (local host).
    let manifest: Manifest = ours ?? fromPlan(await readPlan(), (await readPlan()).createdAt);
    // A repeated final write keeps the first completion time (same content on retries).
    const completedAt = input.completedAt
      ? (ours?.status === "completed" && ours.totals.completedAt) || deps.now().toISOString()
      : null;
    const byId = (m: Manifest) => new Map(m.chapters.map((c) => [c.chapterId, c]));
    if (completedAt) {
      const mine = await readPlan();
      const merged = new Set(manifest.mergedJobs);
      manifest = fromPlan(mine, manifest.totals.startedAt);
      const chapters = byId(manifest);
      for (const outcome of await listRunOutcomes(deps, input.projectId, input.runId)) {
        const chapter = chapters.get(outcome.chapterId);
        if (chapter) applyOutcome(chapter, outcome);
        merged.add(outcome.jobNumber);
      }
      for (const n of input.jobNumbers) merged.add(n);
      manifest.mergedJobs = [...merged].sort((a, b) => a - b);
      for (const c of manifest.chapters) {
        if (c.status === "pending") {
          c.status = "failed";
          c.reason = c.reason ?? "The run ended before this chapter was synthesized.";
        }
      }
      manifest.status = "completed";
    } else {
      const chapters = byId(manifest);
      const toMerge = input.jobNumbers.filter((n) => !manifest.mergedJobs.includes(n)).sort((a, b) => a - b);
      const outcomes = await mapLimit(toMerge, 4, (jobNumber) =>
        deps.runs.listOutcomes({ projectId: input.projectId, runId: input.runId, jobNumber }),
      );
      for (const [i, list] of outcomes.entries()) {
        for (const outcome of list) {
          const chapter = chapters.get(outcome.chapterId);
          if (chapter) applyOutcome(chapter, outcome);
        }
        manifest.mergedJobs.push(toMerge[i] as number);
      }
    }
    manifest.totals = computeTotals(manifest, input, completedAt);
    if (!write) return manifest.totals;
    const body = Buffer.from(JSON.stringify(manifest), "utf8");
    try {
      await deps.storage.audio.getBlockBlobClient(blobName).upload(body, body.length, {
        blobHTTPHeaders: { blobContentType: "application/json; charset=utf-8" },
        metadata: manifestOwnerMetadata({
          runId: manifest.runId,
          startedAt: manifest.totals.startedAt,
          status: manifest.status,
        }),
        conditions: stored.etag ? { ifMatch: stored.etag } : { ifNoneMatch: "*" },
      });
      return manifest.totals;
    } catch (error) {
      if (!isConditionConflict(error) || attempt >= MAX_WRITE_ATTEMPTS) throw error;
      // Another writer won: read its manifest and merge again (jittered, so two losers do not collide again).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * Math.min(attempt, 5)));
    }
  }
}
