import { type BlobServiceClient, type ContainerClient, RestError } from "@azure/storage-blob";
import { downloadBytes, isConditionConflict, isNotFound, listBlobs, writeText } from "../storage/blobs.js";
import { readOnlySasUrl } from "../storage/sas.js";
import type { RunStore } from "./runStore.js";
import { type RecordStore, runStoreOver } from "./runStoreRecords.js";

/**
 * The deployed run store: one blob per record in the work container (`WORK_CONTAINER`), at the paths of
 * runState.ts. Conditional writes are Blob storage's own (`If-None-Match: *` answers 409, a moved ETag 412).
 * `service` (the account of `work`) signs read URLs: a user-delegation SAS with an identity, a key SAS locally.
 */
export function createBlobRunStore(work: ContainerClient, service: BlobServiceClient): RunStore {
  return runStoreOver(blobRecords(work, service));
}

const JSON_TYPE = "application/json; charset=utf-8";

/** The work container is created by planning and the start request; a write before that creates it. */
function isContainerMissing(error: unknown): boolean {
  return error instanceof RestError && error.statusCode === 404 && error.code === "ContainerNotFound";
}

export function blobRecords(work: ContainerClient, service: BlobServiceClient): RecordStore {
  async function inContainer<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!isContainerMissing(error)) throw error;
      await work.createIfNotExists();
      return write();
    }
  }
  const etagOf = (response: { etag?: string }) => {
    if (!response.etag) throw new Error("Blob storage answered a write without an ETag.");
    return response.etag;
  };
  /** A conditional write that lost: undefined instead of the 409/412. */
  async function conditional<T>(write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await inContainer(write);
    } catch (error) {
      if (isConditionConflict(error)) return undefined;
      throw error;
    }
  }

  return {
    url: work.url,
    read: async (name) => (await downloadBytes(work, name))?.toString("utf8"),
    async write(name, text, contentType = JSON_TYPE) {
      await inContainer(() => writeText(work, name, text, contentType));
    },
    create: (name, text) =>
      conditional(async () =>
        etagOf(
          await work.getBlockBlobClient(name).upload(text, Buffer.byteLength(text), {
            blobHTTPHeaders: { blobContentType: JSON_TYPE },
            conditions: { ifNoneMatch: "*" },
          }),
        ),
      ),
    async replace(name, text, etag) {
      try {
        return await conditional(async () =>
          etagOf(
            await work.getBlockBlobClient(name).upload(text, Buffer.byteLength(text), {
              blobHTTPHeaders: { blobContentType: JSON_TYPE },
              conditions: { ifMatch: etag },
            }),
          ),
        );
      } catch (error) {
        // If-Match on a blob that is gone: the version asked for is not there either.
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async version(name) {
      try {
        const properties = await work.getBlobClient(name).getProperties();
        return { etag: etagOf(properties), lastModified: properties.lastModified ?? new Date(0) };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    exists: (name) => work.getBlobClient(name).exists(),
    async remove(name, etag) {
      try {
        const result = await work
          .getBlobClient(name)
          .deleteIfExists(etag ? { conditions: { ifMatch: etag } } : {});
        return result.succeeded;
      } catch (error) {
        // A moved ETag, or no container at all (deleteIfExists answers only a missing blob itself).
        if (isConditionConflict(error) || isNotFound(error)) return false;
        throw error;
      }
    },
    async list(prefix) {
      return (await listBlobs(work, prefix)).map((item) => ({
        name: item.name,
        createdOn: item.properties.createdOn ?? item.properties.lastModified,
        lastModified: item.properties.lastModified,
      }));
    },
    readUrl: (name, window) => readOnlySasUrl(service, work.getBlobClient(name), window),
  };
}
