import { randomUUID } from "node:crypto";
import { odata, TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { HistoryEvent } from "./history.js";
import type { DurableStore, InboxMessage, InstanceRecord, RuntimeStatus } from "./store.js";

/** Payloads larger than this many characters go to blobs (the Azure Storage backend's 45 KB rule, in UTF-16). */
const largePayloadChars = 30_000;
const maxBatch = 100;
const maxBatchChars = 1_500_000;

/**
 * Instances, histories and the pending-message log in Azure Table storage (Azurite locally), laid out like the
 * Durable Task Azure Storage backend: `<hub>Instances` (one row per instance), `<hub>History` (one row per
 * event, partition = instance id) and large payloads in the `<hub>-largemessages` container.
 */
export class TableDurableStore implements DurableStore {
  readonly #instances: TableClient;
  readonly #history: TableClient;
  readonly #inbox: TableClient;
  readonly #blobs: ContainerClient;

  constructor(connectionString: string, taskHub: string) {
    const options = { allowInsecureConnection: true };
    this.#instances = TableClient.fromConnectionString(connectionString, `${taskHub}Instances`, options);
    this.#history = TableClient.fromConnectionString(connectionString, `${taskHub}History`, options);
    this.#inbox = TableClient.fromConnectionString(connectionString, `${taskHub}Pending`, options);
    this.#blobs = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(
      `${taskHub.toLowerCase()}-largemessages`,
    );
  }

  async init(): Promise<void> {
    await Promise.all([
      this.#instances.createTable(),
      this.#history.createTable(),
      this.#inbox.createTable(),
      this.#blobs.createIfNotExists(),
    ]);
  }

  async #pack(text: string | undefined, blobName: string): Promise<{ value?: string; blob?: string }> {
    if (text === undefined) return {};
    if (text.length <= largePayloadChars) return { value: text };
    await this.#blobs.getBlockBlobClient(blobName).upload(text, Buffer.byteLength(text), {
      blobHTTPHeaders: { blobContentType: "application/json" },
    });
    return { blob: blobName };
  }

  async #unpack(value: unknown, blob: unknown): Promise<string | undefined> {
    if (typeof blob === "string" && blob !== "") {
      return (await this.#blobs.getBlockBlobClient(blob).downloadToBuffer()).toString("utf8");
    }
    return typeof value === "string" ? value : undefined;
  }

  async putInstance(record: InstanceRecord): Promise<void> {
    const base = `${record.instanceId}/${record.executionId}`;
    const [input, output, customStatus] = await Promise.all([
      this.#pack(record.input, `${base}/input.json`),
      this.#pack(record.output, `${base}/output-${randomUUID()}.json`),
      this.#pack(record.customStatus, `${base}/status-${randomUUID()}.json`),
    ]);
    const entity: TableEntity = {
      partitionKey: record.instanceId,
      rowKey: "",
      Name: record.name,
      ExecutionId: record.executionId,
      RuntimeStatus: record.runtimeStatus,
      CreatedTime: record.createdTime,
      LastUpdatedTime: record.lastUpdatedTime,
      CompletedTime: record.completedTime,
      ParentInstanceId: record.parentInstanceId,
      ParentExecutionId: record.parentExecutionId,
      ParentTaskId: record.parentTaskId,
      Version: record.version,
      Input: input.value,
      InputBlobName: input.blob,
      Output: output.value,
      OutputBlobName: output.blob,
      CustomStatus: customStatus.value,
      CustomStatusBlobName: customStatus.blob,
    };
    await this.#instances.upsertEntity(withoutUndefined(entity), "Replace");
  }

  async #toRecord(entity: Record<string, unknown> & { partitionKey?: string }): Promise<InstanceRecord> {
    const [input, output, customStatus] = await Promise.all([
      this.#unpack(entity.Input, entity.InputBlobName),
      this.#unpack(entity.Output, entity.OutputBlobName),
      this.#unpack(entity.CustomStatus, entity.CustomStatusBlobName),
    ]);
    return {
      instanceId: String(entity.partitionKey),
      name: String(entity.Name),
      executionId: String(entity.ExecutionId),
      runtimeStatus: entity.RuntimeStatus as RuntimeStatus,
      input,
      output,
      customStatus,
      createdTime: String(entity.CreatedTime),
      lastUpdatedTime: String(entity.LastUpdatedTime),
      completedTime: optionalString(entity.CompletedTime),
      parentInstanceId: optionalString(entity.ParentInstanceId),
      parentExecutionId: optionalString(entity.ParentExecutionId),
      parentTaskId: typeof entity.ParentTaskId === "number" ? entity.ParentTaskId : undefined,
      version: optionalString(entity.Version),
    };
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    try {
      return await this.#toRecord(await this.#instances.getEntity(instanceId, ""));
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async listInstances(): Promise<InstanceRecord[]> {
    const records: InstanceRecord[] = [];
    for await (const entity of this.#instances.listEntities()) records.push(await this.#toRecord(entity));
    return records;
  }

  async deleteInstance(instanceId: string): Promise<void> {
    await this.#instances.deleteEntity(instanceId, "").catch(ignore404);
  }

  /**
   * Appends `events` at positions `startIndex`.. of execution `executionId`. Consecutive events share a row (up
   * to ~30,000 characters of JSON each, one transaction per episode) because Azurite's per-entity cost would
   * otherwise dominate a large fan-out; an event larger than that goes to a blob.
   */
  async appendHistory(
    instanceId: string,
    executionId: string,
    startIndex: number,
    events: HistoryEvent[],
    messageIds: Map<HistoryEvent, string> = new Map(),
  ): Promise<void> {
    const actions: TransactionAction[] = [];
    let chunk: string[] = [];
    let chunkIds: string[] = [];
    let chunkStart = startIndex;
    let chunkChars = 0;
    const flush = () => {
      if (chunk.length === 0) return;
      const entity: TableEntity = {
        partitionKey: instanceId,
        rowKey: historyRowKey(executionId, chunkStart),
        ExecutionId: executionId,
        EventCount: chunk.length,
        Data: `[${chunk.join(",")}]`,
        MessageIds: chunkIds.length > 0 ? JSON.stringify(chunkIds) : undefined,
      };
      actions.push(["upsert", withoutUndefined(entity), "Replace"]);
      chunkStart += chunk.length;
      chunk = [];
      chunkIds = [];
      chunkChars = 0;
    };
    for (const [offset, event] of events.entries()) {
      const text = JSON.stringify(event);
      const messageId = messageIds.get(event);
      if (text.length > largePayloadChars) {
        flush();
        const index = startIndex + offset;
        const data = await this.#pack(text, `${instanceId}/${executionId}/history-${index}.json`);
        const entity: TableEntity = {
          partitionKey: instanceId,
          rowKey: historyRowKey(executionId, index),
          ExecutionId: executionId,
          EventCount: 1,
          DataBlobName: data.blob,
          MessageIds: messageId ? JSON.stringify([messageId]) : undefined,
        };
        actions.push(["upsert", withoutUndefined(entity), "Replace"]);
        chunkStart = index + 1;
        continue;
      }
      if (chunkChars + text.length > largePayloadChars) flush();
      chunk.push(text);
      chunkChars += text.length + 1;
      if (messageId) chunkIds.push(messageId);
    }
    flush();
    await this.#submit(this.#history, actions);
  }

  async loadHistory(
    instanceId: string,
    executionId: string,
  ): Promise<{ events: HistoryEvent[]; messageIds: Set<string> }> {
    const from = historyRowKey(executionId, 0);
    const to = `${executionId}/`;
    const rows: Array<Record<string, unknown> & { rowKey?: string }> = [];
    const filter = odata`PartitionKey eq ${instanceId} and RowKey ge ${from} and RowKey lt ${to}`;
    for await (const row of this.#history.listEntities({ queryOptions: { filter } })) rows.push(row);
    rows.sort((a, b) =>
      (a.rowKey ?? "") < (b.rowKey ?? "") ? -1 : (a.rowKey ?? "") > (b.rowKey ?? "") ? 1 : 0,
    );
    const events: HistoryEvent[] = [];
    const messageIds = new Set<string>();
    for (const row of rows) {
      if (typeof row.DataBlobName === "string") {
        const text = await this.#unpack(undefined, row.DataBlobName);
        if (text !== undefined) events.push(JSON.parse(text) as HistoryEvent);
      } else if (typeof row.Data === "string") {
        events.push(...(JSON.parse(row.Data) as HistoryEvent[]));
      }
      if (typeof row.MessageIds === "string")
        for (const id of JSON.parse(row.MessageIds) as string[]) messageIds.add(id);
    }
    return { events, messageIds };
  }

  /** Deletes history rows of every execution except `keepExecutionId` (all when undefined). */
  async deleteHistory(instanceId: string, keepExecutionId?: string): Promise<number> {
    const actions: TransactionAction[] = [];
    const filter = odata`PartitionKey eq ${instanceId}`;
    for await (const row of this.#history.listEntities({
      queryOptions: { filter, select: ["RowKey", "ExecutionId"] },
    })) {
      if (keepExecutionId !== undefined && row.ExecutionId === keepExecutionId) continue;
      actions.push(["delete", { partitionKey: instanceId, rowKey: row.rowKey as string }]);
    }
    await this.#submit(this.#history, actions);
    return actions.length;
  }

  async deleteBlobs(instanceId: string): Promise<void> {
    for await (const blob of this.#blobs.listBlobsFlat({ prefix: `${instanceId}/` })) {
      await this.#blobs.deleteBlob(blob.name).catch(ignore404);
    }
  }

  async addInbox(message: InboxMessage): Promise<void> {
    const data = await this.#pack(
      JSON.stringify(message.event),
      `${message.instanceId}/pending-${message.id}.json`,
    );
    const entity: TableEntity = {
      partitionKey: message.instanceId,
      rowKey: message.id,
      Kind: message.kind,
      Data: data.value,
      DataBlobName: data.blob,
    };
    await this.#inbox.upsertEntity(withoutUndefined(entity), "Replace");
  }

  async loadInbox(instanceId: string): Promise<InboxMessage[]> {
    const messages: InboxMessage[] = [];
    const filter = odata`PartitionKey eq ${instanceId}`;
    for await (const row of this.#inbox.listEntities({ queryOptions: { filter } })) {
      messages.push({
        id: row.rowKey as string,
        instanceId,
        kind: row.Kind as InboxMessage["kind"],
        event: JSON.parse((await this.#unpack(row.Data, row.DataBlobName)) ?? "null") as HistoryEvent,
      });
    }
    return messages.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async removeInbox(instanceId: string, ids: string[]): Promise<void> {
    await this.#submit(
      this.#inbox,
      ids.map((id) => ["delete", { partitionKey: instanceId, rowKey: id }] as TransactionAction),
    );
  }

  async #submit(table: TableClient, actions: TransactionAction[]): Promise<void> {
    let batch: TransactionAction[] = [];
    let chars = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      chars = 0;
      await table.submitTransaction(current);
    };
    for (const action of actions) {
      const size = JSON.stringify(action[1]).length;
      if (batch.length >= maxBatch || chars + size > maxBatchChars) await flush();
      batch.push(action);
      chars += size;
    }
    await flush();
  }
}

/** Row keys sort by execution then position. */
function historyRowKey(executionId: string, index: number): string {
  return `${executionId}.${index.toString().padStart(10, "0")}`;
}

function withoutUndefined(entity: TableEntity): TableEntity {
  return Object.fromEntries(Object.entries(entity).filter(([, v]) => v !== undefined)) as TableEntity;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function ignore404(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode !== 404) throw error;
}
