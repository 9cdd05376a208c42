import { parseSettings } from "../../src/config/settings.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { createMemoryRunStore } from "../../src/pipeline/memoryRunStore.js";
import type { SpeechPorts } from "../../src/pipeline/speechPorts.js";
import type { StorageClients } from "../../src/storage/clients.js";

/** Any use of this is a test reaching what it said it would not: fail at once, naming what was touched. */
function unavailable<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      throw new Error(`This unit test has no ${what} (it read .${String(property)}).`);
    },
  });
}

/**
 * PipelineDeps for unit tests of use cases: run state in memory (createMemoryRunStore), no Blob or Queue
 * storage at all (touching it throws), Speech as the test fakes it, and the test's clock.
 */
export function memoryDeps(options: { speech?: SpeechPorts; now?: () => Date } = {}): PipelineDeps {
  const now = options.now ?? (() => new Date());
  return {
    settings: parseSettings({
      AzureWebJobsStorage: "unused-in-unit-tests",
      SPEECH_ENDPOINT: "https://speech.invalid",
    }),
    storage: unavailable<StorageClients>("Blob or Queue storage"),
    runs: createMemoryRunStore({ now }),
    speech: () => options.speech ?? unavailable<SpeechPorts>("Speech service"),
    now,
  };
}
