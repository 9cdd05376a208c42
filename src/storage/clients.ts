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

/** The storage account: a connection string, or identity-based names and URIs. */
type AccountSettings = Pick<
  Settings,
  | "AzureWebJobsStorage"
  | "AzureWebJobsStorage__accountName"
  | "AzureWebJobsStorage__blobServiceUri"
  | "AzureWebJobsStorage__queueServiceUri"
  | "AzureWebJobsStorage__clientId"
>;

type StorageSettings = AccountSettings &
  Pick<Settings, "CHAPTERS_CONTAINER" | "AUDIO_CONTAINER" | "VIDEO_QUEUE">;

const NOT_CONFIGURED = "Set AzureWebJobsStorage or AzureWebJobsStorage__accountName / __blobServiceUri.";

/** Identity-based service URIs, as the Functions host derives them; undefined when not configured. */
export function identityServiceUris(settings: AccountSettings): { blob?: string; queue?: string } {
  const account = settings.AzureWebJobsStorage__accountName;
  const blob =
    settings.AzureWebJobsStorage__blobServiceUri ?? (account && `https://${account}.blob.core.windows.net`);
  const queue =
    settings.AzureWebJobsStorage__queueServiceUri ??
    (account ? `https://${account}.queue.core.windows.net` : blob?.replace(".blob.", ".queue."));
  return { blob: blob || undefined, queue: queue || undefined };
}

/** `DefaultAzureCredential`, with the user-assigned identity of `AzureWebJobsStorage__clientId` when set. */
function identityOf(settings: AccountSettings): TokenCredential {
  return new DefaultAzureCredential(
    settings.AzureWebJobsStorage__clientId
      ? { managedIdentityClientId: settings.AzureWebJobsStorage__clientId }
      : {},
  );
}

/** The Blob service of the app's storage account (connection string first, then identity-based). */
export function createBlobServiceClient(
  settings: AccountSettings,
  credential?: TokenCredential,
): BlobServiceClient {
  if (settings.AzureWebJobsStorage)
    return BlobServiceClient.fromConnectionString(settings.AzureWebJobsStorage);
  const { blob } = identityServiceUris(settings);
  if (!blob) throw new Error(NOT_CONFIGURED);
  return new BlobServiceClient(blob, credential ?? identityOf(settings));
}

export function createStorageClients(
  settings: StorageSettings,
  credential?: TokenCredential,
): StorageClients {
  let queues: QueueServiceClient;
  if (settings.AzureWebJobsStorage) {
    queues = QueueServiceClient.fromConnectionString(settings.AzureWebJobsStorage);
  } else {
    const { queue } = identityServiceUris(settings);
    if (!queue) throw new Error(NOT_CONFIGURED);
    credential ??= identityOf(settings);
    queues = new QueueServiceClient(queue, credential);
  }
  const blobs = createBlobServiceClient(settings, credential);
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
