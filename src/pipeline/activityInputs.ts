import { z } from "zod";
import { jobResultSchema } from "./jobResult.js";
import { projectIdSchema, startRequestSchema } from "./options.js";
import { serviceRateSchema } from "./runState.js";

/** Activity inputs, parsed at the boundary (they come from orchestration history, which outlives deployments). */
const ref = {
  projectId: projectIdSchema,
  runId: z.string().min(1),
  jobNumber: z.number().int().positive(),
};
const synthesisOptions = z.object({
  voice: z.string().min(1),
  outputFormat: z.string().min(1),
  wordBoundaries: z.boolean(),
});

export const activityInputs = {
  plan: z.object({
    projectId: projectIdSchema,
    runId: z.string().min(1),
    instanceId: z.string().min(1),
    request: startRequestSchema,
    chaptersBlob: z.string().min(1).optional(),
  }),
  submit: z.object({ ...ref, attempt: z.number().int().nonnegative(), options: synthesisOptions }),
  check: z.object({ synthesisId: z.string().min(1) }),
  collect: z.object({
    ...ref,
    instanceId: z.string().min(1),
    synthesisId: z.string(),
    options: synthesisOptions,
    maxAttempts: z.number().int().positive(),
    jobError: z.string().optional(),
    rate: serviceRateSchema.optional(),
  }),
  delete: z.object({ projectId: projectIdSchema, runId: z.string().min(1), synthesisId: z.string().min(1) }),
  planRetries: z.object({
    ...ref,
    nextJobNumber: z.number().int().positive(),
    options: z.object({
      voice: z.string().min(1),
      outputFormat: z.string().min(1),
      wordBoundaries: z.boolean(),
      maxChaptersPerJob: z.number().int().positive(),
    }),
    maxPayloadBytes: z.number().int().positive(),
    jobFailed: z.boolean().optional(),
  }),
  realtime: z.object({
    ...ref,
    instanceId: z.string().min(1),
    position: z.number().int().nonnegative(),
    options: synthesisOptions,
  }),
  reportJob: z.object({ instanceId: z.string().min(1), runId: z.string().min(1), result: jobResultSchema }),
  manifest: z.object({
    projectId: projectIdSchema,
    runId: z.string().min(1),
    jobNumbers: z.array(z.number().int().positive()),
    startedAt: z.string(),
    completedAt: z.string().optional(),
    batchJobs: z.number().int().nonnegative(),
    speechRequests: z.number().int().nonnegative(),
    billableCharacters: z.number().nonnegative(),
  }),
};
