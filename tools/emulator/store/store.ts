import type { JobRecord, Usage } from "../model.js";

/**
 * Persistence of the emulator (jobs, the usage bill, result files). Handlers and the engine depend on
 * this interface only; {@link MemoryStore} and {@link FileStore} implement it (Azurite's metadata store).
 */
export interface EmulatorStore {
  /** Loads persisted state (no-op for memory). */
  open(): Promise<void>;
  getJob(id: string): JobRecord | undefined;
  /** Jobs in creation order. */
  listJobs(): JobRecord[];
  /**
   * Stores a new job and counts it on the bill (jobs, inputs) exactly once, even when a crash falls between
   * the job's write and the bill's: the client then retries the same PUT, which finds the job and is not
   * counted again, so the count must survive with the job. Resolves when both are persisted.
   */
  createJob(job: JobRecord): Promise<void>;
  putJob(job: JobRecord): Promise<void>;
  deleteJob(id: string): Promise<void>;
  findJobByOperation(operationId: string): JobRecord | undefined;
  usage(): Usage;
  /**
   * Applies a change to the usage bill at once (reads see it) and resolves when it is persisted. Handlers
   * await it before answering, so the bill is never behind what a client was told.
   */
  updateUsage(change: (usage: Usage) => void): Promise<void>;
  /**
   * Adds a finished job instance's billed characters once: a repeat for the same instance (its outcome
   * was lost in a crash and produced again) adds nothing. Resolves when persisted.
   */
  billJob(instance: string, characters: number): Promise<void>;
  /** Directory holding one job's result files (created on demand by the caller). */
  resultsDir(id: string): string;
  /** Flushes pending writes. */
  close(): Promise<void>;
}
