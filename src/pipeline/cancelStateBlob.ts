import type { ContainerClient } from "@azure/storage-blob";
import { listBlobs, writeJson } from "../storage/blobs.js";
import type { CancelState } from "./cancelRun.js";
import { runPaths } from "./runState.js";

/** Name of the blob without its folder and `.json`: job lists are `jobs/{n}.json`, markers `submitted/{id}.json`. */
const baseName = (blobName: string) => blobName.slice(blobName.lastIndexOf("/") + 1).replace(/\.json$/, "");

/** The cancel's run state in the work container (paths in runState.ts). */
export function cancelStateBlob(work: ContainerClient): CancelState {
  return {
    async markCancelled(projectId, runId, cancelledAt) {
      await work.createIfNotExists();
      await writeJson(work, runPaths.cancelled(projectId, runId), { cancelledAt: cancelledAt.toISOString() });
    },
    async jobNumbers(projectId, runId) {
      const jobs = await listBlobs(work, `${runPaths.root(projectId, runId)}jobs/`);
      return jobs.map((blob) => Number(baseName(blob.name))).filter((n) => Number.isInteger(n) && n > 0);
    },
    async submittedSyntheses(projectId, runId) {
      const markers = await listBlobs(work, runPaths.submittedPrefix(projectId, runId));
      return markers.map((marker) => baseName(marker.name));
    },
    async forgetSubmitted(projectId, runId, synthesisId) {
      await work.getBlobClient(runPaths.submitted(projectId, runId, synthesisId)).deleteIfExists();
    },
  };
}
