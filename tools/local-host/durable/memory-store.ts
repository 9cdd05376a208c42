import type { HistoryEvent } from "./history.js";
import type { DurableStore, InboxMessage, InstanceRecord } from "./store.js";

interface StoredExecution {
  events: HistoryEvent[];
  messageIds: Set<string>;
}

/**
 * The store in process memory, for golden-history tests and quick runs: same contract as `TableDurableStore`
 * (values are copied in and out through JSON, so callers cannot share objects with it), nothing survives the
 * process.
 */
export class MemoryDurableStore implements DurableStore {
  readonly #instances = new Map<string, InstanceRecord>();
  readonly #history = new Map<string, Map<string, StoredExecution>>();
  readonly #inbox = new Map<string, Map<string, InboxMessage>>();

  async init(): Promise<void> {}

  async putInstance(record: InstanceRecord): Promise<void> {
    this.#instances.set(record.instanceId, copy(record));
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const record = this.#instances.get(instanceId);
    return record ? copy(record) : undefined;
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return [...this.#instances.values()].map(copy);
  }

  async deleteInstance(instanceId: string): Promise<void> {
    this.#instances.delete(instanceId);
  }

  async appendHistory(
    instanceId: string,
    executionId: string,
    startIndex: number,
    events: HistoryEvent[],
    messageIds: Map<HistoryEvent, string> = new Map(),
  ): Promise<void> {
    const executions = this.#history.get(instanceId) ?? new Map<string, StoredExecution>();
    this.#history.set(instanceId, executions);
    const execution = executions.get(executionId) ?? { events: [], messageIds: new Set<string>() };
    executions.set(executionId, execution);
    // Positions are explicit, as in the table rows: a rewrite of the same range replaces it.
    execution.events.length = Math.min(execution.events.length, startIndex);
    for (const event of events) {
      execution.events.push(copy(event));
      const id = messageIds.get(event);
      if (id) execution.messageIds.add(id);
    }
  }

  async loadHistory(
    instanceId: string,
    executionId: string,
  ): Promise<{ events: HistoryEvent[]; messageIds: Set<string> }> {
    const execution = this.#history.get(instanceId)?.get(executionId);
    return {
      events: execution ? execution.events.map(copy) : [],
      messageIds: new Set(execution?.messageIds),
    };
  }

  async deleteHistory(instanceId: string, keepExecutionId?: string): Promise<number> {
    const executions = this.#history.get(instanceId);
    if (!executions) return 0;
    let deleted = 0;
    for (const [executionId, execution] of executions) {
      if (executionId === keepExecutionId) continue;
      deleted += execution.events.length;
      executions.delete(executionId);
    }
    return deleted;
  }

  async deleteBlobs(_instanceId: string): Promise<void> {}

  async addInbox(message: InboxMessage): Promise<void> {
    const inbox = this.#inbox.get(message.instanceId) ?? new Map<string, InboxMessage>();
    this.#inbox.set(message.instanceId, inbox);
    inbox.set(message.id, copy(message));
  }

  async loadInbox(instanceId: string): Promise<InboxMessage[]> {
    return [...(this.#inbox.get(instanceId)?.values() ?? [])]
      .map(copy)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async removeInbox(instanceId: string, ids: string[]): Promise<void> {
    const inbox = this.#inbox.get(instanceId);
    for (const id of ids) inbox?.delete(id);
  }
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
