import type { BlobItem, ContainerClient } from "@azure/storage-blob";
import { RestError } from "@azure/storage-blob";
import type { z } from "zod";

/** Small helpers over `@azure/storage-blob` for the pipeline's JSON and text blobs. */

export function isNotFound(error: unknown): boolean {
  return error instanceof RestError
    ? error.statusCode === 404
    : (error as { statusCode?: number })?.statusCode === 404;
}

/** A conditional write (If-None-Match: *, If-Match) lost to another writer: 409 blob exists, 412 ETag moved. */
export function isConditionConflict(error: unknown): boolean {
  const status = (error as { statusCode?: number })?.statusCode;
  return status === 409 || status === 412;
}

/** Whole blob as bytes; undefined when it does not exist. */
export async function downloadBytes(
  container: ContainerClient,
  blobName: string,
): Promise<Buffer | undefined> {
  try {
    return await container.getBlobClient(blobName).downloadToBuffer();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function readJson<T>(
  container: ContainerClient,
  blobName: string,
  schema?: z.ZodType<T>,
): Promise<T | undefined> {
  const bytes = await downloadBytes(container, blobName);
  if (!bytes) return undefined;
  const value: unknown = JSON.parse(bytes.toString("utf8"));
  return schema ? schema.parse(value) : (value as T);
}

export async function writeText(
  container: ContainerClient,
  blobName: string,
  text: string,
  contentType: string,
  metadata?: Record<string, string>,
): Promise<void> {
  const body = Buffer.from(text, "utf8");
  await container.getBlockBlobClient(blobName).upload(body, body.length, {
    blobHTTPHeaders: { blobContentType: contentType },
    ...(metadata ? { metadata } : {}),
  });
}

export async function writeJson(container: ContainerClient, blobName: string, value: unknown): Promise<void> {
  await writeText(container, blobName, JSON.stringify(value), "application/json; charset=utf-8");
}

/** Every blob under a prefix (flat listing), optionally with metadata. */
export async function listBlobs(
  container: ContainerClient,
  prefix: string,
  options: { metadata?: boolean } = {},
): Promise<BlobItem[]> {
  const items: BlobItem[] = [];
  try {
    for await (const item of container.listBlobsFlat({
      prefix,
      includeMetadata: options.metadata ?? false,
    })) {
      items.push(item);
    }
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return items;
}

export async function deleteIfExists(container: ContainerClient, blobName: string): Promise<void> {
  await container.getBlobClient(blobName).deleteIfExists();
}
