import type { ContainerClient } from "@azure/storage-blob";
import type { Settings } from "../config/settings.js";
import type { StorageClients } from "../storage/clients.js";
import type { RunStore } from "./runStore.js";
import type { SpeechPorts } from "./speechPorts.js";

/** What the pipeline's use cases need from the outside; built once per worker in `functions/`. */
export interface PipelineDeps {
  settings: Settings;
  storage: StorageClients;
  /** Run state (plan, job lists, outcomes, markers, claims): the use cases' one way to it. */
  runs: RunStore;
  /**
   * The work container itself, for what is not run state yet: planned SSML inputs and the lexicon snapshot
   * (plan.ts, pronunciation.ts) and the HTTP start/cancel requests. Use cases reach run state through `runs`.
   */
  work: ContainerClient;
  /** Speech clients, created on first use (planning and estimates never need them). */
  speech: () => SpeechPorts;
  now: () => Date;
}
