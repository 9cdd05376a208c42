import { QueueClient } from "@azure/storage-queue";
import type { FunctionRunner } from "./bindings.js";
import type { HostLogger } from "./logger.js";

const maxDequeueCount = 5;

/**
 * Storage queue triggers: polls each queue (backing off to 2 s when idle), decodes base64 like the host,
 * deletes a message after success and moves it to `<queue>-poison` after five failed attempts.
 */
export function startQueueTriggers(runner: FunctionRunner, logger: HostLogger): () => Promise<void> {
  let stopped = false;
  const loops: Promise<void>[] = [];
  for (const fn of runner.registry.functions.values()) {
    if (fn.trigger.type.toLowerCase() !== "queuetrigger") continue;
    const trigger = runner.resolveBinding(fn.trigger);
    const queueName = String(trigger.queueName ?? "");
    const connection = runner.connectionString(trigger);
    const base64 = runner.options.queueMessageEncoding === "base64";
    loops.push(
      (async () => {
        const queue = new QueueClient(connection, queueName);
        const poison = new QueueClient(connection, `${queueName}-poison`);
        await queue.createIfNotExists();
        let idleMs = 50;
        while (!stopped) {
          const { receivedMessageItems } = await queue.receiveMessages({
            numberOfMessages: 16,
            visibilityTimeout: 60,
          });
          if (receivedMessageItems.length === 0) {
            await new Promise((r) => setTimeout(r, idleMs));
            idleMs = Math.min(idleMs * 2, 2_000);
            continue;
          }
          idleMs = 50;
          await Promise.all(
            receivedMessageItems.map(async (message) => {
              const text = base64
                ? Buffer.from(message.messageText, "base64").toString("utf8")
                : message.messageText;
              const metadata = {
                id: message.messageId,
                dequeueCount: message.dequeueCount,
                insertionTime: message.insertedOn.toISOString(),
                expirationTime: message.expiresOn.toISOString(),
                nextVisibleTime: message.nextVisibleOn.toISOString(),
                popReceipt: message.popReceipt,
              };
              try {
                await runner.invoke(
                  fn,
                  { string: text },
                  { queueTrigger: text, ...metadata },
                  Object.fromEntries(
                    Object.entries(metadata).map(([k, v]) => [k, { json: JSON.stringify(v) }]),
                  ),
                );
                await queue.deleteMessage(message.messageId, message.popReceipt);
              } catch (error) {
                logger.function(
                  fn.name,
                  "error",
                  "system",
                  `Queue message ${message.messageId} failed: ${String(error)}`,
                );
                if (message.dequeueCount >= maxDequeueCount) {
                  await poison.createIfNotExists();
                  await poison.sendMessage(message.messageText);
                  await queue.deleteMessage(message.messageId, message.popReceipt);
                } else {
                  await queue.updateMessage(message.messageId, message.popReceipt, undefined, 0);
                }
              }
            }),
          );
        }
      })().catch((error: unknown) => {
        if (!stopped) logger.host("error", `Queue trigger "${fn.name}" stopped: ${String(error)}`);
      }),
    );
  }
  return async () => {
    stopped = true;
    await Promise.allSettled(loops);
  };
}
