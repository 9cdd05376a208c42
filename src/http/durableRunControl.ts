import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { RunControl } from "../pipeline/runControl.js";

/**
 * The instance's status, or undefined when it was never started. durable-functions' `DurableClient.getStatus`
 * throws on the extension's 404 ("… replied with HTTP 404 response …"; Azure/azure-functions-durable-js
 * src/durableClient/DurableClient.ts).
 */
export async function findStatus(
  client: DurableClient,
  instanceId: string,
  showInput = false,
): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId, { showInput, showHistory: false });
  } catch (error) {
    if (error instanceof Error && /\b404\b/.test(error.message)) return undefined;
    throw error;
  }
}

/**
 * `RunControl` over durable-functions' client. Its `raiseEvent` and `terminate` resolve on the extension's
 * 202 and on 410 Gone (the instance has ended) and reject on 404 (Azure/azure-functions-durable-js
 * src/durableClient/DurableClient.ts), which is what the port promises.
 */
export function durableRunControl(client: DurableClient): RunControl {
  return {
    async getStatus(instanceId, options) {
      const status = await findStatus(client, instanceId, options?.showInput ?? false);
      if (!status) return undefined;
      return {
        runtimeStatus: String(status.runtimeStatus),
        input: status.input,
        customStatus: status.customStatus,
      };
    },
    raiseEvent: (instanceId, eventName, eventData) => client.raiseEvent(instanceId, eventName, eventData),
    terminate: (instanceId, reason) => client.terminate(instanceId, reason),
  };
}
