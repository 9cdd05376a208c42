import type { BatchSynthesisRequest } from "../speech/models.js";

/**
 * The Batch Synthesis create body (api-version 2024-04-01, `speech/models.ts`) for one job: one input per
 * chapter, in job order, so result `000n` belongs to the job's n-th chapter.
 */
export type InputKind = BatchSynthesisRequest["inputKind"];

/** Finished jobs are deleted by the pipeline; the TTL only matters for jobs it lost track of. */
export const JOB_TIME_TO_LIVE_HOURS = 48;

/**
 * Bytes kept free below `MAX_JOB_PAYLOAD_BYTES` for what the Speech client may add to the body
 * (description, defaults); the packing is otherwise exact.
 */
export const PAYLOAD_RESERVE_BYTES = 512;

export function buildBatchRequest(
  inputKind: InputKind,
  voice: string,
  outputFormat: string,
  wordBoundaries: boolean,
  contents: readonly string[],
): BatchSynthesisRequest {
  return {
    inputKind,
    ...(inputKind === "PlainText" ? { synthesisConfig: { voice } } : {}),
    inputs: contents.map((content) => ({ content })),
    properties: {
      outputFormat,
      wordBoundaryEnabled: wordBoundaries,
      sentenceBoundaryEnabled: false,
      concatenateResult: false,
      decompressOutputFiles: false,
      timeToLiveInHours: JOB_TIME_TO_LIVE_HOURS,
    },
  };
}

/** Size of the request with no inputs, plus the reserve: what every job costs before its chapters. */
export function baseRequestBytes(
  inputKind: InputKind,
  voice: string,
  outputFormat: string,
  wordBoundaries: boolean,
) {
  const empty = buildBatchRequest(inputKind, voice, outputFormat, wordBoundaries, []);
  return Buffer.byteLength(JSON.stringify(empty), "utf8") + PAYLOAD_RESERVE_BYTES;
}
