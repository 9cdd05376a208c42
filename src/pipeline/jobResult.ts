import { z } from "zod";
import { jobTallySchema } from "./tally.js";

/** What a finished job reports to its project run (the `job-finished` event and the lanes' results). */
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
