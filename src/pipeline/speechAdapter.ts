import { Readable } from "node:stream";
import type { Settings } from "../config/settings.js";
import {
  createSpeechClients,
  isSpeechServiceError,
  makeSynthesisId,
  RealtimeSynthesisError,
} from "../speech/index.js";
import { RealtimeSynthesisFailure, type SpeechPorts, type SynthesisState } from "./speechPorts.js";

/** The pipeline's Speech ports over the real clients (key or Microsoft Entra ID, per settings). */
export function createSpeechPorts(settings: Settings): SpeechPorts {
  const clients = createSpeechClients(settings);
  const toState = (job: {
    id: string;
    status: string;
    createdDateTime?: string;
    lastActionDateTime?: string;
    properties?: { error?: { message: string; code?: string } };
    outputs?: { result?: string };
  }) => {
    const state: SynthesisState = { id: job.id, status: job.status };
    const error = job.properties?.error;
    if (error) state.error = error.code ? `${error.code}: ${error.message}` : error.message;
    if (job.status === "Succeeded" && job.outputs?.result) state.resultUrl = job.outputs.result;
    if (job.status === "Succeeded") {
      const serviceMs = Date.parse(job.lastActionDateTime ?? "") - Date.parse(job.createdDateTime ?? "");
      if (Number.isFinite(serviceMs) && serviceMs >= 0) state.serviceMs = serviceMs;
    }
    return state;
  };
  return {
    makeSynthesisId,
    batch: {
      createSynthesis: async (id, request) => toState(await clients.batch.createSynthesis(id, request)),
      getSynthesis: async (id) => {
        try {
          return toState(await clients.batch.getSynthesis(id));
        } catch (error) {
          if (isSpeechServiceError(error) && error.statusCode === 404) return undefined;
          throw error;
        }
      },
      deleteSynthesis: (id) => clients.batch.deleteSynthesis(id),
      openResults: async (id, resultUrl) => {
        const results = await clients.batch.openResults(id, resultUrl ? { resultUrl } : {});
        return {
          speechRequests: results.jobReads ?? 0,
          close: () => results.close(),
          async *entries() {
            for await (const entry of results.entries()) {
              yield {
                index: entry.index,
                status: entry.status,
                ...(entry.sizeInBytes !== undefined ? { sizeInBytes: entry.sizeInBytes } : {}),
                ...(entry.durationInMilliseconds !== undefined
                  ? { durationInMilliseconds: entry.durationInMilliseconds }
                  : {}),
                ...(entry.audioBytes !== undefined ? { audioBytes: entry.audioBytes } : {}),
                ...(entry.error
                  ? {
                      error: entry.error.code
                        ? `${entry.error.code}: ${entry.error.message}`
                        : entry.error.message,
                    }
                  : {}),
                openAudio: async () => {
                  const stream = await entry.openAudio();
                  return stream instanceof Readable ? stream : Readable.from(stream as AsyncIterable<Buffer>);
                },
                readWordBoundaries: () => entry.readWordBoundaries(),
              };
            }
          },
        };
      },
    },
    realtime: {
      synthesizeLong: async (request) => {
        try {
          return await clients.realtime.synthesizeLong(request);
        } catch (error) {
          if (!(error instanceof RealtimeSynthesisError)) throw error;
          const { requests, characters } = error;
          throw new RealtimeSynthesisFailure(error.message, { requests, characters });
        }
      },
    },
  };
}
