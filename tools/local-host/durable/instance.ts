import { randomUUID } from "node:crypto";
import { completedId, EventType, type HistoryEvent, historyEvent, schedulingTypes } from "./history.js";
import { type InboxMessage, type InstanceRecord, terminalStatuses } from "./store.js";

/** DTFx `OrchestrationStatus` numbers used in ExecutionCompleted events. */
export const OrchestrationStatus = { Completed: 1, ContinuedAsNew: 2, Failed: 3, Terminated: 5 } as const;

/** A message for one instance: persisted ones (starts, events, control) or a completion of its work. */
export interface Message {
  /** Id in the persisted pending log, when the message was persisted (starts, events, control). */
  persistedId?: string;
  kind: InboxMessage["kind"] | "completion";
  event: HistoryEvent;
  /** Completions belong to one execution; later executions ignore them. */
  executionId?: string;
}

/** One live instance: its record, current-execution history, inbox and armed timers. */
export class Instance {
  history: HistoryEvent[] = [];
  persisted = 0;
  inbox: Message[] = [];
  busy = false;
  scheduled = new Map<number, HistoryEvent>();
  completed = new Set<number>();
  timers = new Map<number, NodeJS.Timeout>();
  persistedMessageIds = new Set<string>();
  /** The running episode's consumed pending-log ids, and which history event each became. */
  episode: { messageIds: Map<HistoryEvent, string>; consumed: string[] } = {
    messageIds: new Map(),
    consumed: [],
  };
  /** What the stored instance row says, to skip rewriting it when only the update time moved. */
  rowKey = "";
  rowWrittenAt = 0;
  constructor(public record: InstanceRecord) {}

  get terminal(): boolean {
    return terminalStatuses.has(this.record.runtimeStatus);
  }

  resetExecution(executionId: string): void {
    this.clearTimers();
    this.record.executionId = executionId;
    this.history = [];
    this.persisted = 0;
    this.scheduled.clear();
    this.completed.clear();
  }

  clearTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  indexEvent(event: HistoryEvent): void {
    if (schedulingTypes.has(event.EventType)) this.scheduled.set(event.EventId, event);
    const id = completedId(event);
    if (id !== undefined) this.completed.add(id);
  }
}

let messageCounter = 0;

/** Sortable pending-log ids: time, a counter, and randomness against clashes across restarts. */
export function newMessageId(): string {
  messageCounter = (messageCounter + 1) % 1_000_000;
  return `${Date.now().toString().padStart(15, "0")}-${messageCounter.toString().padStart(6, "0")}-${randomUUID().slice(0, 8)}`;
}

/** Picks the messages of one episode, like a control-queue batch for one instance. */
export function takeBatch(instance: Instance, batchSize: number): Message[] {
  const current = instance.record.executionId;
  // Drop what can no longer apply: stale completions, duplicate completions (at-least-once), stale starts.
  instance.inbox = instance.inbox.filter((m) => {
    if (m.kind === "completion") {
      const id = completedId(m.event) as number;
      return m.executionId === current && instance.scheduled.has(id) && !instance.completed.has(id);
    }
    if (m.kind === "start") return instance.history.length === 0 && m.executionId === current;
    return true;
  });
  const terminate = instance.inbox.findIndex((m) => m.kind === "terminate");
  if (terminate >= 0) return instance.inbox.splice(terminate, 1);
  if (instance.record.runtimeStatus === "Suspended") {
    const resume = instance.inbox.findIndex((m) => m.kind === "resume");
    return resume >= 0 ? instance.inbox.splice(resume, 1) : [];
  }
  if (instance.history.length === 0) {
    const start = instance.inbox.findIndex((m) => m.kind === "start");
    if (start < 0) return [];
    const [startMessage] = instance.inbox.splice(start, 1);
    return startMessage ? [startMessage] : [];
  }
  const head = instance.inbox[0];
  if (head && (head.kind === "suspend" || head.kind === "resume")) return instance.inbox.splice(0, 1);
  let count = 0;
  while (
    count < instance.inbox.length &&
    count < batchSize &&
    instance.inbox[count]?.kind !== "suspend" &&
    instance.inbox[count]?.kind !== "resume"
  ) {
    count++;
  }
  return instance.inbox.splice(0, count);
}

export function newExecutionId(): string {
  return randomUUID().replaceAll("-", "");
}

/** The ExecutionStarted message of the record's current execution. */
export function startMessage(
  record: InstanceRecord,
  at: Date,
  inputJson: string | undefined,
  id = newMessageId(),
): Message {
  const event = historyEvent(EventType.ExecutionStarted, at, {
    Name: record.name,
    Version: record.version ?? "",
    Input: inputJson,
    OrchestrationInstance: { InstanceId: record.instanceId, ExecutionId: record.executionId },
    ParentInstance: record.parentInstanceId
      ? {
          OrchestrationInstance: {
            InstanceId: record.parentInstanceId,
            ExecutionId: record.parentExecutionId,
          },
          TaskScheduleId: record.parentTaskId,
        }
      : null,
  });
  return { persistedId: id, kind: "start", event, executionId: record.executionId };
}
