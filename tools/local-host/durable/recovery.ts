import { EventType } from "./history.js";
import { Instance, newExecutionId, newMessageId, OrchestrationStatus, startMessage } from "./instance.js";
import type { DurableStore, InboxMessage, InstanceRecord, RuntimeStatus } from "./store.js";
import type { VirtualClock } from "./virtualClock.js";

export type Restored =
  /** Killed between writing a final history and the instance row: the history decides; report to the parent. */
  | { kind: "finished"; instance: Instance }
  /** Resume: replay pending messages, re-issue open work. */
  | { kind: "resumed"; instance: Instance };

const statusByCode: Record<number, RuntimeStatus> = {
  [OrchestrationStatus.Completed]: "Completed",
  [OrchestrationStatus.Failed]: "Failed",
  [OrchestrationStatus.Terminated]: "Terminated",
};

/**
 * Rebuilds an unfinished instance from storage after a stop or a SIGKILL at any point of an episode. What is in
 * history happened; pending messages whose ids a history row recorded were consumed (dropped here); the rest is
 * replayed. An execution whose history ends in ContinuedAsNew was killed while switching: the new execution
 * starts from the pending start message, or from the ContinuedAsNew result when that was not written yet.
 */
export async function restoreInstance(
  store: DurableStore,
  clock: VirtualClock,
  record: InstanceRecord,
): Promise<Restored> {
  const { events, messageIds } = await store.loadHistory(record.instanceId, record.executionId);
  const ended = [...events].reverse().find((e) => e.EventType === EventType.ExecutionCompleted);
  if (ended && ended.OrchestrationStatus !== OrchestrationStatus.ContinuedAsNew) {
    record.runtimeStatus = statusByCode[ended.OrchestrationStatus as number] ?? "Failed";
    record.output = ended.Result as string | undefined;
    await store.putInstance(record);
    const instance = new Instance(record);
    instance.history = events;
    instance.persisted = events.length;
    return { kind: "finished", instance };
  }
  const pending: InboxMessage[] = [];
  for (const message of await store.loadInbox(record.instanceId)) {
    if (messageIds.has(message.id)) await store.removeInbox(record.instanceId, [message.id]);
    else pending.push(message);
  }
  const startOf = (event: Record<string, unknown>) =>
    (event.OrchestrationInstance as { ExecutionId?: string } | undefined)?.ExecutionId;

  let instance: Instance;
  if (ended) {
    const oldExecution = record.executionId;
    const start = pending.find((m) => m.kind === "start" && startOf(m.event) !== oldExecution);
    record.executionId = (start && startOf(start.event)) || newExecutionId();
    record.input = ended.Result as string | undefined;
    record.runtimeStatus = "Running";
    record.output = undefined;
    if (!start) {
      const message = startMessage(
        record,
        clock.now(),
        record.input,
        `${newMessageId()}-can-${oldExecution}`,
      );
      const id = message.persistedId as string;
      await store.addInbox({ id, instanceId: record.instanceId, kind: "start", event: message.event });
      pending.push({ id, instanceId: record.instanceId, kind: "start", event: message.event });
    }
    await store.putInstance(record);
    await store.deleteHistory(record.instanceId, record.executionId);
    instance = new Instance(record);
  } else {
    instance = new Instance(record);
    for (const event of events) {
      event.IsPlayed = true;
      instance.indexEvent(event);
    }
    instance.history = events;
    instance.persisted = events.length;
    instance.persistedMessageIds = messageIds;
    const last = [...events].reverse().find((e) => e.EventType === EventType.OrchestratorStarted);
    if (last) clock.advanceTo(new Date(last.Timestamp));
  }
  for (const message of pending) {
    const executionId = message.kind === "start" ? startOf(message.event) : undefined;
    instance.inbox.push({
      persistedId: message.id,
      kind: message.kind,
      event: message.event,
      ...(executionId ? { executionId } : {}),
    });
  }
  return { kind: "resumed", instance };
}
