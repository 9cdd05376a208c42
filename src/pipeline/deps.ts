import type { ContainerClient } from "@azure/storage-blob";
import type { Settings } from "../config/settings.js";
import type { StorageClients } from "../storage/clients.js";
import type { SpeechPorts } from "./speechPorts.js";

/** What the pipeline's use cases need from the outside; built once per worker in `functions/`. */
export interface PipelineDeps {
  settings: Settings;
  storage: StorageClients;
  /** Work container (run state). */
  work: ContainerClient;
  /** Speech clients, created on first use (planning and estimates never need them). */
  speech: () => SpeechPorts;
  now: () => Date;
}
