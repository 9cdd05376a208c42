import type { Settings } from "../config/settings.js";
import type { StorageClients } from "../storage/clients.js";
import type { RunStore } from "./runStore.js";
import type { SpeechPorts } from "./speechPorts.js";

/** What the pipeline's use cases need from the outside; built once per worker in `functions/`. */
export interface PipelineDeps {
  settings: Settings;
  storage: StorageClients;
  /**
   * Run state (plan, job lists, planned inputs and lexicon, outcomes, markers, claims): the use cases' one
   * way to the work container.
   */
  runs: RunStore;
  /** Speech clients, created on first use (planning and estimates never need them). */
  speech: () => SpeechPorts;
  now: () => Date;
}
