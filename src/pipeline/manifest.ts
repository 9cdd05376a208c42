import { z } from "zod";
import { mapLimit, readJson, writeJson } from "../storage/blobs.js";
import { listOutcomes } from "./collect.js";
import type { PipelineDeps } from "./deps.js";
import { audioPaths, type ChapterOutcome, type Plan, planSchema, runPaths } from "./runState.js";

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

export interface WriteManifestInput {
  projectId: string;
  runId: string;
  /** Finished jobs to merge (already merged ones are skipped). */
  jobNumbers: number[];
  /** Orchestration time; the manifest records the plan's wall-clock creation time instead. */
  startedAt: string;
  /** Set on the final write: anything still pending is marked failed; the manifest records the wall-clock time. */
  completedAt?: string;
  /** Run counters kept by the orchestrator. */
  batchJobs: number;
  speechRequests: number;
  billableCharacters: number;
}

/**
 * Merges finished jobs' chapter outcomes into `manifest.json` and rewrites it (whole-blob upload, so
 * readers always see a complete document). Called by the orchestrator one job at a time.
 */
export async function writeManifest(deps: PipelineDeps, input: WriteManifestInput): Promise<ManifestTotals> {
  const blobName = audioPaths.manifest(input.projectId);
  const existing = await readJson(deps.storage.audio, blobName).catch(() => undefined);
  const parsed = manifestSchema.safeParse(existing);
  let manifest: Manifest;
  if (parsed.success && parsed.data.runId === input.runId) {
    manifest = parsed.data;
  } else {
    const plan = await readJson(deps.work, runPaths.plan(input.projectId, input.runId), planSchema);
    if (!plan) throw new Error(`Run ${input.runId} has no plan.`);
    // Wall-clock times come from activities: an orchestrator's clock may run scaled (local host).
    manifest = fromPlan(plan, plan.createdAt);
  }
  const startedAt = manifest.totals.startedAt;
  // A repeated final write keeps the first completion time (same content on retries).
  const completedAt = input.completedAt
    ? (manifest.status === "completed" && manifest.totals.completedAt) || deps.now().toISOString()
    : null;
  const byId = new Map(manifest.chapters.map((c) => [c.chapterId, c]));
  const toMerge = input.jobNumbers.filter((n) => !manifest.mergedJobs.includes(n)).sort((a, b) => a - b);
  const outcomes = await mapLimit(toMerge, 4, (jobNumber) =>
    listOutcomes(deps, { projectId: input.projectId, runId: input.runId, jobNumber }),
  );
  for (const [i, list] of outcomes.entries()) {
    for (const outcome of list) {
      const chapter = byId.get(outcome.chapterId);
      if (chapter) applyOutcome(chapter, outcome);
    }
    manifest.mergedJobs.push(toMerge[i] as number);
  }
  if (completedAt) {
    for (const c of manifest.chapters) {
      if (c.status === "pending") {
        c.status = "failed";
        c.reason = c.reason ?? "The run ended before this chapter was synthesized.";
      }
    }
    manifest.status = "completed";
  }
  const totals = emptyTotals(manifest.chapters.length, startedAt);
  for (const c of manifest.chapters) {
    totals[c.status]++;
    // Over the whole book: audio kept from earlier runs counts as well as this run's.
    if (c.status === "succeeded" || c.status === "unchanged") totals.audioDurationMs += c.durationMs ?? 0;
  }
  totals.billableCharacters = input.billableCharacters;
  totals.batchJobs = input.batchJobs;
  totals.speechRequests = input.speechRequests;
  totals.completedAt = completedAt;
  manifest.totals = totals;
  await writeJson(deps.storage.audio, blobName, manifest);
  return totals;
}
