import type { ReportJobInput } from "./contracts.js";
import { JOB_FINISHED_EVENT } from "./names.js";

/** The durable client's one call this needs (`df.getClient(context)` in an activity with a durableClient input). */
export interface EventRaiser {
  raiseEvent(instanceId: string, eventName: string, eventData: unknown): Promise<void>;
}

/**
 * Tells the project run that a job is done (chapters stored, job deleted), so its progress and manifest move
 * per job while the lanes run on. At least once: the run counts a job number once. A run that has ended
 * (the client treats 410 Gone as done) or was purged (404) needs no report.
 */
export async function reportJobFinished(
  client: EventRaiser,
  input: ReportJobInput,
): Promise<"raised" | "run-gone"> {
  try {
    await client.raiseEvent(input.instanceId, JOB_FINISHED_EVENT, {
      runId: input.runId,
      result: input.result,
    });
    return "raised";
  } catch (error) {
    // durable-functions' DurableClient.raiseEvent rejects a 404 with this message (410 resolves).
    if (error instanceof Error && error.message.startsWith("No instance with ID")) return "run-gone";
    throw error;
  }
}
