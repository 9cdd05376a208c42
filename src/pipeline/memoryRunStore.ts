import type { RunStore } from "./runStore.js";
import { type RecordStore, runStoreOver } from "./runStoreRecords.js";

/**
 * A run store in memory, for unit tests of use cases (no Azurite): the same mapping as the Blob store, over
 * records with Blob storage's conditional semantics (create-only, If-Match), checked by the contract test.
 * `now` stamps writes (a claim's age is measured from its last write).
 */
export function createMemoryRunStore(options: { now?: () => Date } = {}): RunStore {
  return runStoreOver(memoryRecords(options.now));
}

interface MemoryRecord {
  text: string;
  etag: string;
  createdOn: Date;
  lastModified: Date;
}

export function memoryRecords(now: () => Date = () => new Date()): RecordStore {
  const records = new Map<string, MemoryRecord>();
  let version = 0;
  const put = (name: string, text: string): string => {
    const etag = `"m${++version}"`;
    const at = now();
    records.set(name, { text, etag, createdOn: records.get(name)?.createdOn ?? at, lastModified: at });
    return etag;
  };
  const url = "memory://run-store";
  return {
    url,
    read: async (name) => records.get(name)?.text,
    async write(name, text) {
      put(name, text);
    },
    create: async (name, text) => (records.has(name) ? undefined : put(name, text)),
    replace: async (name, text, etag) => (records.get(name)?.etag === etag ? put(name, text) : undefined),
    async version(name) {
      const record = records.get(name);
      return record && { etag: record.etag, lastModified: record.lastModified };
    },
    exists: async (name) => records.has(name),
    async remove(name, etag) {
      const record = records.get(name);
      if (!record || (etag !== undefined && record.etag !== etag)) return false;
      return records.delete(name);
    },
    async list(prefix) {
      return [...records.entries()]
        .filter(([name]) => name.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, r]) => ({ name, createdOn: r.createdOn, lastModified: r.lastModified }));
    },
    // Nothing outside the process can read memory: the URL only names the record and its window.
    readUrl: async (name, window) =>
      `${url}/${name}?st=${window.startsOn.toISOString()}&se=${window.expiresOn.toISOString()}`,
  };
}
