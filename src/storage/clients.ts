import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { type QueueClient, QueueServiceClient } from "@azure/storage-queue";
import type { Settings } from "../config/settings.js";

/**
 * Blob and Queue clients for the app's storage account: from the `AzureWebJobsStorage` connection string,
 * or identity-based (`AzureWebJobsStorage__accountName` / `__blobServiceUri` / `__queueServiceUri`, with
 * `DefaultAzureCredential`, user-assigned identity from `__clientId`).
 */
export interface StorageClients {
  blobs: BlobServiceClient;
  queues: QueueServiceClient;
  chapters: ContainerClient;
  audio: ContainerClient;
  videoQueue: QueueClient;
}

type StorageSettings = Pick<
  Settings,
  | "AzureWebJobsStorage"
  | "AzureWebJobsStorage__accountName"
  | "AzureWebJobsStorage__blobServiceUri"
  | "AzureWebJobsStorage__queueServiceUri"
  | "AzureWebJobsStorage__clientId"
  | "CHAPTERS_CONTAINER"
  | "AUDIO_CONTAINER"
  | "VIDEO_QUEUE"
>;

export function createStorageClients(
  settings: StorageSettings,
  credential?: TokenCredential,
): StorageClients {
  let blobs: BlobServiceClient;
  let queues: QueueServiceClient;
  if (settings.AzureWebJobsStorage) {
    blobs = BlobServiceClient.fromConnectionString(settings.AzureWebJobsStorage);
    queues = QueueServiceClient.fromConnectionString(settings.AzureWebJobsStorage);
  } else {
    const account = settings.AzureWebJobsStorage__accountName;
    const blobUri =
      settings.AzureWebJobsStorage__blobServiceUri ?? (account && `https://${account}.blob.core.windows.net`);
    const queueUri =
      settings.AzureWebJobsStorage__queueServiceUri ??
      (account ? `https://${account}.queue.core.windows.net` : blobUri?.replace(".blob.", ".queue."));
    if (!blobUri || !queueUri) {
      throw new Error("Set AzureWebJobsStorage or AzureWebJobsStorage__accountName / __blobServiceUri.");
    }
    const identity =
      credential ??
      new DefaultAzureCredential(
        settings.AzureWebJobsStorage__clientId
          ? { managedIdentityClientId: settings.AzureWebJobsStorage__clientId }
          : {},
      );
    blobs = new BlobServiceClient(blobUri, identity);
    queues = new QueueServiceClient(queueUri, identity);
  }
  return {
    blobs,
    queues,
    chapters: blobs.getContainerClient(settings.CHAPTERS_CONTAINER),
    audio: blobs.getContainerClient(settings.AUDIO_CONTAINER),
    videoQueue: queues.getQueueClient(settings.VIDEO_QUEUE),
  };
}

const cache = new WeakMap<object, StorageClients>();

/** One set of clients per settings object (connection pools are reused across invocations). */
export function getStorageClients(settings: StorageSettings): StorageClients {
  let clients = cache.get(settings);
  if (!clients) {
    clients = createStorageClients(settings);
    cache.set(settings, clients);
  }
  return clients;
}
