import { getSettings, type Settings } from "../config/settings.js";
import { createStorageClients } from "../storage/clients.js";
import { createBlobRunStore } from "./blobRunStore.js";
import type { PipelineDeps } from "./deps.js";
import { createSpeechPorts } from "./speechAdapter.js";
import type { SpeechPorts } from "./speechPorts.js";

/** Builds the pipeline's dependencies from settings; Speech clients are created on first use. */
export function createPipelineDeps(settings: Settings, overrides: Partial<PipelineDeps> = {}): PipelineDeps {
  const storage = createStorageClients(settings);
  let speech: SpeechPorts | undefined;
  return {
    settings,
    storage,
    runs: createBlobRunStore(storage.blobs.getContainerClient(settings.WORK_CONTAINER), storage.blobs),
    speech: () => {
      speech ??= createSpeechPorts(settings);
      return speech;
    },
    now: () => new Date(),
    ...overrides,
  };
}

let shared: { settings: Settings; deps: PipelineDeps } | undefined;

/** The worker's dependencies, built once per settings (the environment does not change while a worker runs). */
export function getPipelineDeps(): PipelineDeps {
  const settings = getSettings();
  if (shared?.settings !== settings) shared = { settings, deps: createPipelineDeps(settings) };
  return shared.deps;
}
