import type { ContainerClient } from "@azure/storage-blob";
import type { PipelineDeps } from "../../src/pipeline/deps.js";

/** The work container behind `deps.runs`, for tests that check or plant blobs at their CONTRACT paths. */
export function workContainer(deps: PipelineDeps): ContainerClient {
  return deps.storage.blobs.getContainerClient(deps.settings.WORK_CONTAINER);
}
