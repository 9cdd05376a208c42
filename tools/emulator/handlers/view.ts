import { modelledTime } from "../config.js";
import type { EmulatorServices } from "../context.js";
import { formatTimestamp } from "../http.js";
import type { JobRecord } from "../model.js";
import { destinationPrefix } from "../synthesisEngine.js";
import { signedResultUrl } from "./resultUrls.js";

/** A job as the service renders it (S1 and S5 examples: field order, echoed properties, outputs). */
export function renderJob(
  services: EmulatorServices,
  baseUrl: string,
  job: JobRecord,
): Record<string, unknown> {
  const request = job.request;
  const props = request.properties;
  const properties: Record<string, unknown> = {
    timeToLiveInHours: props.timeToLiveInHours,
    outputFormat: props.outputFormat,
    concatenateResult: props.concatenateResult,
    decompressOutputFiles: props.decompressOutputFiles,
    wordBoundaryEnabled: props.wordBoundaryEnabled,
    sentenceBoundaryEnabled: props.sentenceBoundaryEnabled,
  };
  // Echo the container without its SAS token: signatures never leave in a response.
  if (props.destinationContainerUrl)
    properties.destinationContainerUrl = props.destinationContainerUrl.split("?")[0];
  if (props.destinationPath !== undefined) properties.destinationPath = props.destinationPath;
  const terminal = job.status === "Succeeded" || job.status === "Failed";
  const outcome = job.outcome;
  if (terminal && outcome) {
    properties.sizeInBytes = outcome.sizeInBytes;
    properties.succeededAudioCount = outcome.succeededAudioCount;
    properties.failedAudioCount = outcome.failedAudioCount;
    properties.durationInMilliseconds = outcome.durationInMilliseconds;
    properties.billingDetails = { neuralCharacters: outcome.billedCharacters };
    if (outcome.error) properties.error = outcome.error;
  }
  const view: Record<string, unknown> = {
    id: job.id,
    status: job.status,
    createdDateTime: formatTimestamp(modelledTime(services.config, job.createdAt)),
    lastActionDateTime: formatTimestamp(modelledTime(services.config, job.lastActionAt)),
    inputKind: request.inputKind,
  };
  if (request.synthesisConfig) view.synthesisConfig = request.synthesisConfig;
  view.customVoices = request.customVoices;
  // `description` is not echoed: no documented response shows it, not even the create response to the
  // documented request that sets it (batch-synthesis.md "Create batch synthesis"; spec examples get_batch_synthesis*.json).
  view.properties = properties;
  if (terminal && outcome?.hasResults) {
    if (props.destinationContainerUrl) {
      const prefix = destinationPrefix(job);
      view.outputs = props.decompressOutputFiles
        ? { result: prefix, summary: `${prefix}/summary.json` }
        : { result: `${prefix}/results.zip` };
    } else {
      view.outputs = { result: signedResultUrl(services, baseUrl, job.id) };
    }
  }
  return view;
}
