import { randomUUID } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueClient } from "@azure/storage-queue";
import type { AppRegistry, CoreBinding, RegisteredFunction, RpcTypedData } from "./core-api.js";
import { type InvocationInput, type InvocationOutcome, invokeFunction } from "./invoke.js";
import type { HostLogger } from "./logger.js";

export interface RunnerOptions {
  registry: AppRegistry;
  logger: HostLogger;
  /** App settings (connection strings are looked up here by binding `connection` name). */
  settings: Record<string, string>;
  queueMessageEncoding: "base64" | "none";
  /** The `durableClient` input data for a function. */
  durableClientData: () => Record<string, unknown>;
}

/**
 * Runs functions with their extra inputs filled in (durable client, blob) and writes their outputs
 * (storage queue, blob) the way the Functions host's bindings do.
 */
export class FunctionRunner {
  readonly #queues = new Map<string, Promise<QueueClient>>();

  constructor(readonly options: RunnerOptions) {}

  get registry(): AppRegistry {
    return this.options.registry;
  }

  /** Binding options with `%AppSetting%` expressions resolved, as the host does when it indexes functions. */
  resolveBinding(binding: CoreBinding): CoreBinding {
    const resolved: CoreBinding = { ...binding };
    for (const [key, value] of Object.entries(binding)) {
      if (typeof value !== "string") continue;
      resolved[key] = value.replace(/%([^%]+)%/g, (_whole, name: string) => {
        const setting = this.options.settings[name];
        if (setting === undefined)
          throw new Error(`The app setting "${name}" used in a ${binding.type} binding is not set.`);
        return setting;
      });
    }
    return resolved;
  }

  /** Invokes `fn` with its trigger data; `bindingData` resolves `{name}` expressions in blob paths. */
  async invoke(
    fn: RegisteredFunction,
    triggerData: RpcTypedData | null | undefined,
    bindingData: Record<string, unknown> = {},
    triggerMetadata?: Record<string, RpcTypedData>,
  ): Promise<InvocationOutcome> {
    const inputs: InvocationInput[] = [{ name: fn.triggerName, data: triggerData }];
    for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
      if (name === fn.triggerName || binding.direction !== "in") continue;
      inputs.push({ name, data: await this.#inputData(this.resolveBinding(binding), bindingData) });
    }
    const outcome = await invokeFunction(this.registry, fn, inputs, this.options.logger, triggerMetadata);
    for (const output of outcome.response.outputData ?? []) {
      const binding = fn.metadata.bindings[output.name];
      if (binding) await this.#writeOutput(fn, this.resolveBinding(binding), output.data, bindingData);
    }
    const returnBinding = fn.metadata.bindings.$return;
    if (returnBinding && returnBinding.type.toLowerCase() !== "http") {
      await this.#writeOutput(
        fn,
        this.resolveBinding(returnBinding),
        outcome.response.returnValue,
        bindingData,
      );
    }
    return outcome;
  }

  async #inputData(
    binding: CoreBinding,
    bindingData: Record<string, unknown>,
  ): Promise<RpcTypedData | undefined> {
    const type = binding.type.toLowerCase();
    if (type === "durableclient" || type === "orchestrationclient") {
      return { string: JSON.stringify(this.options.durableClientData()) };
    }
    if (type === "blob") {
      const { container, blob } = splitBlobPath(resolvePath(String(binding.path ?? ""), bindingData));
      const client = this.#blobService(binding).getContainerClient(container).getBlockBlobClient(blob);
      try {
        const bytes = await client.downloadToBuffer();
        return binding.dataType === "string" ? { string: bytes.toString("utf8") } : { bytes };
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        throw error;
      }
    }
    return undefined;
  }

  async #writeOutput(
    fn: RegisteredFunction,
    binding: CoreBinding,
    data: RpcTypedData | null | undefined,
    bindingData: Record<string, unknown>,
  ): Promise<void> {
    if (data === null || data === undefined) return;
    const type = binding.type.toLowerCase();
    if (type === "queue") {
      const queue = await this.#queue(binding);
      for (const message of toMessages(data)) {
        const text =
          this.options.queueMessageEncoding === "base64"
            ? message.toString("base64")
            : message.toString("utf8");
        await queue.sendMessage(text);
      }
    } else if (type === "blob") {
      const { container, blob } = splitBlobPath(resolvePath(String(binding.path ?? ""), bindingData));
      const containerClient = this.#blobService(binding).getContainerClient(container);
      await containerClient.createIfNotExists();
      const body = toBytes(data);
      await containerClient.getBlockBlobClient(blob).upload(body, body.length);
    } else if (type !== "http") {
      this.options.logger.host(
        "warning",
        `Function "${fn.name}": output binding type "${binding.type}" ignored.`,
      );
    }
  }

  connectionString(binding: CoreBinding): string {
    const name =
      typeof binding.connection === "string" && binding.connection !== ""
        ? binding.connection
        : "AzureWebJobsStorage";
    const value = this.options.settings[name] ?? this.options.settings[`${name}__connectionString`];
    if (!value)
      throw new Error(`The app setting "${name}" (connection of a ${binding.type} binding) is not set.`);
    return value;
  }

  #blobService(binding: CoreBinding): BlobServiceClient {
    return BlobServiceClient.fromConnectionString(this.connectionString(binding));
  }

  #queue(binding: CoreBinding): Promise<QueueClient> {
    const queueName = String(binding.queueName ?? "");
    const key = `${this.connectionString(binding)}|${queueName}`;
    let client = this.#queues.get(key);
    if (!client) {
      client = (async () => {
        const queue = new QueueClient(this.connectionString(binding), queueName);
        await queue.createIfNotExists();
        return queue;
      })();
      client.catch(() => this.#queues.delete(key));
      this.#queues.set(key, client);
    }
    return client;
  }
}

/** Queue messages an output value stands for: an array is several messages, objects are JSON. */
function toMessages(data: RpcTypedData): Buffer[] {
  if (data.json !== undefined && data.json !== null) {
    const value: unknown = JSON.parse(data.json);
    const items = Array.isArray(value) ? value : [value];
    return items.map((item) => Buffer.from(typeof item === "string" ? item : JSON.stringify(item), "utf8"));
  }
  return [toBytes(data)];
}

function toBytes(data: RpcTypedData): Buffer {
  if (data.bytes) return Buffer.from(data.bytes);
  if (typeof data.string === "string") return Buffer.from(data.string, "utf8");
  if (typeof data.json === "string") {
    const value: unknown = JSON.parse(data.json);
    return Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8");
  }
  if (data.int !== undefined || data.double !== undefined)
    return Buffer.from(String(data.int ?? data.double));
  return Buffer.alloc(0);
}

/** Binding expressions in paths: `{rand-guid}`, `{DateTime}` and trigger data such as route parameters. */
export function resolvePath(template: string, bindingData: Record<string, unknown>): string {
  return template.replace(/\{([^}]+)\}/g, (whole, key: string) => {
    if (key === "rand-guid") return randomUUID();
    if (key === "DateTime") return new Date().toISOString();
    const found = Object.entries(bindingData).find(([k]) => k.toLowerCase() === key.toLowerCase());
    return found ? String(found[1]) : whole;
  });
}

function splitBlobPath(fullPath: string): { container: string; blob: string } {
  const slash = fullPath.indexOf("/");
  if (slash <= 0) throw new Error(`A blob binding path must be "container/blob", got "${fullPath}".`);
  return { container: fullPath.slice(0, slash), blob: fullPath.slice(slash + 1) };
}
