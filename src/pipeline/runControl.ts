/**
 * What the pipeline's use cases need from Durable Functions' management API (start is the HTTP adapter's
 * own business). The adapter over durable-functions' `DurableClient` is `src/http/durableRunControl.ts`;
 * unit tests use a fake.
 */
export interface RunControl {
  /** The instance's status, or undefined when it was never started (or was purged). */
  getStatus(instanceId: string, options?: { showInput?: boolean }): Promise<RunStatus | undefined>;
  /** Resolves once the event is queued, also for an instance that has ended; rejects for an unknown one. */
  raiseEvent(instanceId: string, eventName: string, eventData: unknown): Promise<void>;
  /** Resolves once the termination is queued, also for an instance that has ended; rejects for an unknown one. */
  terminate(instanceId: string, reason: string): Promise<void>;
}

/** The part of a durable status the use cases read. */
export interface RunStatus {
  runtimeStatus: string;
  /** The orchestration input (only when asked for with `showInput`). */
  input?: unknown;
  customStatus?: unknown;
}

const ACTIVE_STATUSES = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);

/** An instance that may still do something (and can be terminated). */
export function isActive(runtimeStatus: string): boolean {
  return ACTIVE_STATUSES.has(runtimeStatus);
}
