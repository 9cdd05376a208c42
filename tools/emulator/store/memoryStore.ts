import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyUsage, type JobRecord, type Usage } from "../model.js";
import type { EmulatorStore } from "./store.js";

/** State in memory; result files in a temporary directory removed on close. */
export class MemoryStore implements EmulatorStore {
  protected readonly jobs = new Map<string, JobRecord>();
  protected bill: Usage = emptyUsage();
  private tempRoot: string | undefined;

  async open(): Promise<void> {}

  getJob(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  listJobs(): JobRecord[] {
    return [...this.jobs.values()].sort(
      (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  async putJob(job: JobRecord): Promise<void> {
    this.jobs.set(job.id, job);
  }

  async deleteJob(id: string): Promise<void> {
    const instance = this.jobs.get(id)?.instance;
    if (instance) this.billedInstances.delete(instance);
    this.jobs.delete(id);
    await rm(this.resultsDir(id), { recursive: true, force: true });
  }

  findJobByOperation(operationId: string): JobRecord | undefined {
    for (const job of this.jobs.values()) if (job.operationId === operationId) return job;
    return undefined;
  }

  usage(): Usage {
    return structuredClone(this.bill);
  }

  async updateUsage(change: (usage: Usage) => void): Promise<void> {
    change(this.bill);
  }

  private readonly billedInstances = new Set<string>();

  async billJob(instance: string, characters: number): Promise<void> {
    if (this.billedInstances.has(instance)) return;
    this.billedInstances.add(instance);
    this.bill.billableCharacters += characters;
  }

  resultsDir(id: string): string {
    this.tempRoot ??= mkdtempSync(join(tmpdir(), "speech-emulator-"));
    return join(this.tempRoot, "results", id);
  }

  async close(): Promise<void> {
    if (this.tempRoot) await rm(this.tempRoot, { recursive: true, force: true });
  }
}
