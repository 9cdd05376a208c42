import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobRecord, Usage } from "../model.js";
import { InMemoryState } from "./inMemoryState.js";
import type { EmulatorStore } from "./store.js";

/** State in memory; result files in a temporary directory removed on close. */
export class MemoryStore extends InMemoryState implements EmulatorStore {
  private tempRoot: string | undefined;

  async open(): Promise<void> {}

  async putJob(job: JobRecord): Promise<void> {
    this.jobs.set(job.id, job);
  }

  async createJob(job: JobRecord): Promise<void> {
    this.jobs.set(job.id, job);
    this.countCreated(job);
  }

  async deleteJob(id: string): Promise<void> {
    const instance = this.jobs.get(id)?.instance;
    if (instance) this.countedInstances.delete(instance);
    this.forgetJob(id);
    await rm(this.resultsDir(id), { recursive: true, force: true });
  }

  async updateUsage(change: (usage: Usage) => void): Promise<void> {
    change(this.bill);
  }

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
