import { QueueClient } from "@azure/storage-queue";
import { decodeQueueMessage, videoMessageSchema } from "../../src/pipeline/messages.js";

/** One chapter's video message as the benchmark (standing in for the video step) received it. */
export interface ReceivedMessage {
  projectId: string;
  chapterId: string;
  /** Real clock ms when the bench received it (within `pollMs` of when it was sent). */
  receivedAt: number;
}

/**
 * Plays the video step: drains the video queue while the run goes, recording when each chapter's message
 * arrived. Azurite stamps messages with whole seconds only, so the arrival time is taken on receipt; the
 * queue is read again at once while it has messages, and every `pollMs` when empty.
 */
export function drainVideoQueue(
  connectionString: string,
  queueName: string,
  pollMs = 50,
): { stop(): Promise<ReceivedMessage[]>; received: ReceivedMessage[] } {
  const queue = new QueueClient(connectionString, queueName);
  const received: ReceivedMessage[] = [];
  let stopping = false;
  const loop = (async () => {
    await queue.createIfNotExists();
    for (;;) {
      const batch = await queue
        .receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 })
        .catch(() => undefined);
      const now = Date.now();
      const messages = batch?.receivedMessageItems ?? [];
      for (const item of messages) {
        const parsed = videoMessageSchema.safeParse(
          (() => {
            try {
              return decodeQueueMessage(item.messageText);
            } catch {
              return undefined;
            }
          })(),
        );
        if (parsed.success)
          received.push({
            projectId: parsed.data.projectId,
            chapterId: parsed.data.chapterId,
            receivedAt: now,
          });
      }
      await Promise.all(
        messages.map((m) => queue.deleteMessage(m.messageId, m.popReceipt).catch(() => undefined)),
      );
      if (messages.length > 0) continue;
      if (stopping) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  })();
  return {
    received,
    async stop() {
      // One last empty read after the run ended, so every message already sent is counted.
      stopping = true;
      await loop;
      return received;
    },
  };
}
