import { z } from "zod";
import { jobModeSchema, serviceRateSchema } from "../runState.js";

/**
 * What planning decides, as saved in the run state (`plan.json`, `jobs/{n}.json`; names in runState.ts):
 * every chapter with its planned status, the run's options and tuning, and the jobs its chapters are packed
 * into. Retries and the realtime fallback reuse the job shape.
 */

export const chapterKindSchema = z.enum(["text", "ssml"]);
export type ChapterKind = z.infer<typeof chapterKindSchema>;

export const plannedChapterSchema = z.object({
  chapterId: z.string(),
  index: z.number().int().nonnegative(),
  sourceBlob: z.string(),
  kind: chapterKindSchema,
  characters: z.number().int().nonnegative(),
  /** Spoken words, for the audio length estimate. */
  words: z.number().int().nonnegative().optional(),
  billableCharacters: z.number().int().nonnegative(),
  textSha256: z.string(),
  inputBytes: z.number().int().nonnegative(),
  /** `succeeded` and `failed` only for chapters outside a `chapters` subset, carried over (see `carried`). */
  status: z.enum(["pending", "unchanged", "rejected", "succeeded", "failed"]),
  reason: z.string().optional(),
  /** Existing audio of an unchanged (or carried) chapter. */
  audioBlob: z.string().optional(),
  durationMs: z.number().optional(),
  sizeBytes: z.number().optional(),
  /** Not among the run's requested `chapters`: listed in the manifest as it was, never synthesized. */
  carried: z.boolean().optional(),
  /** From the previous manifest, for carried chapters. */
  batchJobId: z.string().optional(),
  attempts: z.number().int().nonnegative().optional(),
  mode: z.enum(["batch", "realtime"]).optional(),
  /** Pronunciations (issue 14): the planned SSML input in the work container, for chapters using a listed term. */
  inputBlob: z.string().optional(),
});
export type PlannedChapter = z.infer<typeof plannedChapterSchema>;

export const runOptionsSchema = z.object({
  voice: z.string(),
  outputFormat: z.string(),
  mode: z.enum(["batch", "realtime"]),
  maxChaptersPerJob: z.number().int().positive(),
  maxConcurrentJobs: z.number().int().positive(),
  wordBoundaries: z.boolean(),
  force: z.boolean(),
  chapters: z.array(z.string()).optional(),
  title: z.string().optional(),
});

/** Limits and timings fixed at planning time, so the orchestrators never read settings themselves. */
export const runTuningSchema = z.object({
  maxChapterAttempts: z.number().int().positive(),
  maxPayloadBytes: z.number().int().positive(),
  realtimeConcurrency: z.number().int().positive(),
  expectedCharsPerSecond: z.number().positive(),
  pollMinMs: z.number().int().positive(),
  pollMaxMs: z.number().int().positive(),
  jobTimeoutMs: z.number().int().positive(),
  pollsPerExecution: z.number().int().positive().optional(),
  /** Throughput measured by earlier runs (`_throughput.json` when this run was planned): the first job's prior. */
  priorRate: serviceRateSchema.optional(),
  /** Chapters of the pilot job a run of more than one wave starts with (planning/pilot.ts); absent or 0: none. */
  pilotChapters: z.number().int().nonnegative().optional(),
  /** The same as `priorRate` for pilot jobs (`_throughput.pilot.json`). */
  pilotPriorRate: serviceRateSchema.optional(),
  /** Least interval between polls of the pilot (`PILOT_POLL_SECONDS`); absent (older plans): `pollMinMs`. */
  pilotPollMs: z.number().int().positive().optional(),
});
export type RunTuning = z.infer<typeof runTuningSchema>;

export const planSchema = z.object({
  projectId: z.string(),
  runId: z.string(),
  instanceId: z.string(),
  createdAt: z.string(),
  options: runOptionsSchema,
  tuning: runTuningSchema,
  chapters: z.array(plannedChapterSchema),
  ignored: z.array(z.string()),
  /** Jobs 1..initialJobs come from planning; later numbers are retries and fallbacks. */
  initialJobs: z.number().int().nonnegative().optional(),
});
export type Plan = z.infer<typeof planSchema>;

export const jobChapterSchema = plannedChapterSchema
  .pick({
    chapterId: true,
    index: true,
    sourceBlob: true,
    kind: true,
    characters: true,
    billableCharacters: true,
    textSha256: true,
    inputBytes: true,
    inputBlob: true,
  })
  .extend({ attempts: z.number().int().nonnegative() });
export type JobChapter = z.infer<typeof jobChapterSchema>;

export const jobSpecSchema = z.object({
  jobNumber: z.number().int().positive(),
  mode: jobModeSchema,
  /** Batch jobs hold one kind of input: plain-text chapters and SSML chapters go to separate jobs. */
  inputKind: z.enum(["PlainText", "SSML"]).optional(),
  /** The run's pilot: its first few chapters, alone, ahead of the first wave (planning/pilot.ts). */
  pilot: z.literal(true).optional(),
  chapters: z.array(jobChapterSchema),
});
export type JobSpec = z.infer<typeof jobSpecSchema>;

/** What the orchestrator knows of a job: counts only (it travels in orchestration inputs and outputs). */
export const jobSummarySchema = z.object({
  jobNumber: z.number().int().positive(),
  mode: jobModeSchema,
  chapters: z.number().int().nonnegative(),
  characters: z.number().nonnegative(),
  pilot: z.literal(true).optional(),
});
export type JobSummary = z.infer<typeof jobSummarySchema>;

export function summarizeJob(job: JobSpec): JobSummary {
  return {
    jobNumber: job.jobNumber,
    mode: job.mode,
    ...(job.pilot ? { pilot: true as const } : {}),
    chapters: job.chapters.length,
    characters: job.chapters.reduce((n, c) => n + c.characters, 0),
  };
}
