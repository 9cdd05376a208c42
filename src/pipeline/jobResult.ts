import { z } from "zod";
import type { JobTally } from "./tally.js";

/** What a finished job reports to its project run (the `job-finished` event and the lanes' results). */
export const jobTallySchema = z.object({
  succeeded: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  retry: z.number().int().nonnegative(),
  realtime: z.number().int().nonnegative(),
  audioDurationMs: z.number().nonnegative(),
  billableCharacters: z.number().nonnegative(),
  speechRequests: z.number().int().nonnegative(),
}) satisfies z.ZodType<JobTally>;

export const jobResultSchema = z.object({
  jobNumber: z.number().int().positive(),
  mode: z.enum(["batch", "realtime"]),
  /** The batch job failed as a whole (service Failed, deadline, vanished, or could not be submitted). */
  jobFailed: z.boolean(),
  error: z.string().optional(),
  tally: jobTallySchema,
  /** Requests this job made besides those counted in the tally (submit, polls, delete). */
  requests: z.number().int().nonnegative(),
  cancelled: z.boolean().optional(),
});
export type JobResult = z.infer<typeof jobResultSchema>;
