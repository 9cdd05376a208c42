import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { emptyUsage, type JobRecord, type Usage, usageSchema } from "../model.js";
import { InMemoryState } from "./inMemoryState.js";
import type { EmulatorStore } from "./store.js";

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

/**
 * State under a directory: `jobs/<id>.json`, `usage.json`, `results/<id>/`. Reads are served from memory;
 * every job change and every usage change is written through before the caller goes on (a SIGKILL loses
 * nothing already answered). Usage writes coalesce: changes made while a write runs share the next one.
 * The job instances already billed, and those already counted as created, are kept in usage.json with the
 * bill. A job is written before its count, and opening counts any job on disk that has none: a SIGKILL
 * between the two writes (seen in the repeated-kill test) would otherwise leave a job the client's retried
 * PUT finds, and so never counts.
 */
export class FileStore extends InMemoryState implements EmulatorStore {
  /** The last usage write (never rejects), and the queued one that will carry changes made since. */
  private usageWrite: Promise<void> = Promise.resolve();
  private queuedUsageWrite: Promise<void> | undefined;
  private readonly jobWrites = new Map<string, Promise<void>>();

  constructor(private readonly root: string) {
    super();
  }

  private get jobsDir(): string {
    return join(this.root, "jobs");
  }

  async open(): Promise<void> {
    await mkdir(this.jobsDir, { recursive: true });
    await mkdir(join(this.root, "results"), { recursive: true });
    for (const name of await readdir(this.jobsDir)) {
      if (!name.endsWith(".json")) continue;
      try {
        const job = JSON.parse(await readFile(join(this.jobsDir, name), "utf8")) as JobRecord;
        // State written before jobs had instances kept results directly under results/<id>.
        job.instance ??= "";
        this.jobs.set(job.id, job);
      } catch {
        // A torn write from a crash: ignore that job rather than refuse to start.
      }
    }
    try {
      const saved = JSON.parse(await readFile(join(this.root, "usage.json"), "utf8")) as {
        billedInstances?: unknown;
        countedInstances?: unknown;
      };
      this.bill = usageSchema.parse(saved);
      if (Array.isArray(saved.billedInstances))
        for (const instance of saved.billedInstances) this.billedInstances.add(String(instance));
      if (Array.isArray(saved.countedInstances))
        for (const instance of saved.countedInstances) this.countedInstances.add(String(instance));
      // State saved before created jobs were marked: every job on disk was counted then.
      else for (const job of this.jobs.values()) this.countedInstances.add(job.instance);
    } catch {
      this.bill = emptyUsage();
    }
    let uncounted = false;
    for (const job of this.jobs.values()) uncounted = this.countCreated(job) || uncounted;
    if (uncounted) await this.persistUsage();
  }

  /** Writes of one job are serialised so an older snapshot never lands after a newer one. */
  private chain(id: string, write: () => Promise<void>): Promise<void> {
    const next = (this.jobWrites.get(id) ?? Promise.resolve()).then(write, write);
    this.jobWrites.set(id, next);
    return next;
  }

  async putJob(job: JobRecord): Promise<void> {
    this.jobs.set(job.id, job);
    const text = JSON.stringify(job);
    await this.chain(job.id, () => writeAtomically(join(this.jobsDir, `${job.id}.json`), text));
  }

  async createJob(job: JobRecord): Promise<void> {
    // The job first: a count saved for a job the crash kept off disk would count its retry twice.
    await this.putJob(job);
    this.countCreated(job);
    await this.persistUsage();
  }

  async deleteJob(id: string): Promise<void> {
    const instance = this.jobs.get(id)?.instance;
    this.forgetJob(id);
    await this.chain(id, () => rm(join(this.jobsDir, `${id}.json`), { force: true }));
    // Only once the file is gone: a count dropped first would count the job again if it survived a crash.
    if (instance) this.countedInstances.delete(instance);
    await rm(this.resultsDir(id), { recursive: true, force: true });
  }

  updateUsage(change: (usage: Usage) => void): Promise<void> {
    change(this.bill);
    return this.persistUsage();
  }

  /** Resolves once usage.json holds every change made before the call. */
  private persistUsage(): Promise<void> {
    if (!this.queuedUsageWrite) {
      const write = this.usageWrite.then(() => {
        // From here on, changes wait for the next write; this one snapshots the bill now.
        this.queuedUsageWrite = undefined;
        const saved = {
          ...this.bill,
          billedInstances: [...this.billedInstances],
          countedInstances: [...this.countedInstances],
        };
        return writeAtomically(join(this.root, "usage.json"), JSON.stringify(saved));
      });
      this.queuedUsageWrite = write;
      this.usageWrite = write.catch(() => {});
    }
    return this.queuedUsageWrite;
  }

  billJob(instance: string, characters: number): Promise<void> {
    if (this.billedInstances.has(instance)) return this.persistUsage();
    this.billedInstances.add(instance);
    return this.updateUsage((usage) => {
      usage.billableCharacters += characters;
    });
  }

  resultsDir(id: string): string {
    return join(this.root, "results", id);
  }

  async close(): Promise<void> {
    await this.persistUsage().catch(() => {});
    await Promise.all(this.jobWrites.values());
  }
}
