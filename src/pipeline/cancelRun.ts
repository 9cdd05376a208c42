import { mapLimit } from "../concurrency.js";
import { projectInputSchema } from "./contracts.js";
import { CANCEL_EVENT, jobInstanceIds, projectInstanceId } from "./names.js";
import { isActive, type RunControl } from "./runControl.js";
import type { RunStore } from "./runStore.js";

/**
 * The run state a cancel touches, a slice of the run store (`deps.runs`): the cancelled marker (submits stop,
 * late activity copies write nothing, runGuard.ts), every job the run planned, and the batch jobs it may have
 * created at the service (a submitted marker is written before each create).
 */
export type CancelState = Pick<RunStore, "markCancelled" | "listJobs" | "listSubmitted" | "clearSubmitted">;

/** How long a cancel waits for the run to publish its cancelled status, and the clock it waits on. */
export interface CancelWait {
  timeoutMs: number;
  pollMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export const CANCEL_WAIT: CancelWait = {
  timeoutMs: 10_000,
  pollMs: 100,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface CancelPorts {
  control: RunControl;
  state: CancelState;
  /** Deletes a batch job at the service; a job already gone is fine (BatchSynthesisPort.deleteSynthesis). */
  deleteSynthesis: (synthesisId: string) => Promise<void>;
  /** Realtime lanes a job may have started (`REALTIME_CONCURRENCY`): their instance ids are derived. */
  realtimeConcurrency: number;
  now: () => Date;
  wait?: CancelWait;
}

export type CancelResult =
  | { found: false }
  | {
      found: true;
      instanceId: string;
      /** "Terminated" when the run was active, else the status it had already ended in. */
      runtimeStatus: string;
      /** Whether a running run was stopped (false: it had already ended; its leftovers are still cleaned). */
      cancelled: boolean;
      deletedJobs: number;
    };

/** Only the run id is read from the orchestration input; an input without one names no run state to touch. */
const runIdInput = projectInputSchema.pick({ runId: true });

/**
 * Cancels a project's run: stops submissions (marker), lets the run publish phase `cancelled` (event, bounded
 * wait), terminates it and every job sub-orchestration still active, then deletes every batch job the run may
 * have created at the service. Safe to repeat: a second cancel finds nothing running and nothing to delete.
 */
export async function cancelRun(ports: CancelPorts, projectId: string): Promise<CancelResult> {
  const { control, state } = ports;
  const instanceId = projectInstanceId(projectId);
  const status = await control.getStatus(instanceId, { showInput: true });
  if (!status) return { found: false };
  const parsedInput = runIdInput.safeParse(status.input);
  const runId = parsedInput.success ? parsedInput.data.runId : undefined;
  const wasActive = isActive(status.runtimeStatus);
  // The marker goes first: a submit that runs between here and the terminate sees it and creates nothing.
  if (runId) await state.markCancelled({ projectId, runId }, ports.now().toISOString());
  if (wasActive) {
    // A suspended run cannot take the event; it is terminated as it stands.
    if (status.runtimeStatus !== "Suspended")
      await publishCancelled(control, instanceId, ports.wait ?? CANCEL_WAIT);
    // Terminating an instance that ended meanwhile resolves (durable-functions DurableClient.terminate treats
    // 410 Gone as done); anything else must not keep the batch jobs below from being deleted.
    await control.terminate(instanceId, "Cancelled by request.").catch(() => undefined);
  }
  let deletedJobs = 0;
  if (runId) {
    await terminateJobs(ports, instanceId, projectId, runId);
    deletedJobs = await deleteSubmittedJobs(ports, projectId, runId);
  }
  return {
    found: true,
    instanceId,
    runtimeStatus: wasActive ? "Terminated" : status.runtimeStatus,
    cancelled: wasActive,
    deletedJobs,
  };
}

/**
 * Raises the cancel event and waits (bounded) until the run has published phase `cancelled` or stopped:
 * a terminated run keeps its last customStatus, which must not say jobs are still running.
 */
async function publishCancelled(control: RunControl, instanceId: string, wait: CancelWait): Promise<void> {
  try {
    await control.raiseEvent(instanceId, CANCEL_EVENT, null);
  } catch {
    return; // it just ended, or cannot take events: terminate as it stands
  }
  const deadline = wait.now() + wait.timeoutMs;
  while (wait.now() < deadline) {
    const status = await control.getStatus(instanceId).catch(() => undefined);
    if (!status || !isActive(status.runtimeStatus)) return;
    if ((status.customStatus as { phase?: unknown } | null | undefined)?.phase === "cancelled") return;
    await wait.sleep(wait.pollMs);
  }
}

/**
 * Terminating the project run leaves its sub-orchestrations running (durable-functions `DurableClient.terminate`:
 * "no effect on any in-flight activity function executions or sub-orchestrations"): each job's own instance,
 * its collector and its realtime lanes have explicit ids (names.ts), so they are terminated one by one.
 */
async function terminateJobs(ports: CancelPorts, instanceId: string, projectId: string, runId: string) {
  const jobs = await ports.state.listJobs({ projectId, runId });
  await mapLimit(jobs, 8, async ({ jobNumber }) => {
    for (const child of jobInstanceIds(instanceId, runId, jobNumber, ports.realtimeConcurrency)) {
      const status = await ports.control.getStatus(child).catch(() => undefined);
      if (status && isActive(status.runtimeStatus)) {
        await ports.control.terminate(child, "Project cancelled.").catch(() => undefined);
      }
    }
  });
}

/** Deletes at the service every batch job the run recorded as possibly created; returns how many. */
async function deleteSubmittedJobs(ports: CancelPorts, projectId: string, runId: string): Promise<number> {
  const syntheses = await ports.state.listSubmitted({ projectId, runId });
  await mapLimit(syntheses, 4, async ({ synthesisId }) => {
    await ports.deleteSynthesis(synthesisId);
    await ports.state.clearSubmitted({ projectId, runId }, synthesisId);
  });
  return syntheses.length;
}
