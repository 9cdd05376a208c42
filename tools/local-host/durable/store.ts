import type { HistoryEvent } from "./history.js";

export type RuntimeStatus =
  | "Pending"
  | "Running"
  | "Completed"
  | "ContinuedAsNew"
  | "Failed"
  | "Canceled"
  | "Terminated"
  | "Suspended";

export const terminalStatuses: ReadonlySet<RuntimeStatus> = new Set([
  "Completed",
  "Failed",
  "Terminated",
  "Canceled",
]);

/** A stored JSON text as a value: null when there is none, the text itself when it is not JSON. */
export function parseStoredJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface InstanceRecord {
  instanceId: string;
  name: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  /** JSON texts (undefined: none). */
  input?: string | undefined;
  output?: string | undefined;
  customStatus?: string | undefined;
  createdTime: string;
  lastUpdatedTime: string;
  completedTime?: string | undefined;
  parentInstanceId?: string | undefined;
  parentExecutionId?: string | undefined;
  parentTaskId?: number | undefined;
  version?: string | undefined;
}

/** A message for an instance that is not yet in its history (kept so a crash loses nothing). */
export interface InboxMessage {
  id: string;
  instanceId: string;
  kind: "start" | "event" | "terminate" | "suspend" | "resume";
  /** The history event it becomes (ExecutionStarted, EventRaised, ...). */
  event: HistoryEvent;
}

/**
 * Where the engine keeps instances, histories and the pending-message log. `TableDurableStore` (Azurite or
 * Azure Table storage, laid out like the Durable Task Azure Storage backend) for the host;
 * `MemoryDurableStore` for golden tests.
 */
export interface DurableStore {
  init(): Promise<void>;
  putInstance(record: InstanceRecord): Promise<void>;
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  listInstances(): Promise<InstanceRecord[]>;
  deleteInstance(instanceId: string): Promise<void>;
  /** Appends `events` at positions `startIndex`.. of execution `executionId` (one transaction). */
  appendHistory(
    instanceId: string,
    executionId: string,
    startIndex: number,
    events: HistoryEvent[],
    messageIds?: Map<HistoryEvent, string>,
  ): Promise<void>;
  /** The events of one execution and the ids of the pending messages they consumed. */
  loadHistory(
    instanceId: string,
    executionId: string,
  ): Promise<{ events: HistoryEvent[]; messageIds: Set<string> }>;
  /** Deletes history of every execution except `keepExecutionId` (all when undefined). */
  deleteHistory(instanceId: string, keepExecutionId?: string): Promise<number>;
  deleteBlobs(instanceId: string): Promise<void>;
  addInbox(message: InboxMessage): Promise<void>;
  /** Pending messages of an instance, oldest first. */
  loadInbox(instanceId: string): Promise<InboxMessage[]>;
  removeInbox(instanceId: string, ids: string[]): Promise<void>;
}
