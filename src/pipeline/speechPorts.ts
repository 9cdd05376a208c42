import type { Readable } from "node:stream";
import type { BatchSynthesisRequest, SynthesisStatus, WordBoundary } from "../speech/models.js";

/**
 * The parts of the Speech clients (src/speech) the pipeline uses. Kept narrow so use cases are
 * testable and the adapter in `speechAdapter.ts` is the one place that knows the client's API. The wire
 * types themselves (request body, status, word boundaries) have one definition: `speech/models.ts`.
 */

export interface SynthesisState {
  id: string;
  status: SynthesisStatus;
  /** The service's reason when the whole job failed. */
  error?: string;
  /** `outputs.result` of a succeeded job: a SAS URL (a secret: never logged, never in orchestration history). */
  resultUrl?: string;
  /**
   * A succeeded job's duration by the service's own clock: `lastActionDateTime` ("time-stamp when the current
   * status was entered": `BatchSynthesis` in the 2024-04-01 REST spec, batch-synthesis-api.md S5) minus
   * `createdDateTime`. Absent when either is missing or they disagree.
   */
  serviceMs?: number;
}

export interface ResultEntry {
  /** 1-based position of the input in the job. */
  index: number;
  status: string;
  sizeInBytes?: number;
  durationInMilliseconds?: number;
  /** Exact byte length of the audio file, when the results know it (lets it be uploaded unbuffered). */
  audioBytes?: number;
  error?: string;
  openAudio(): Promise<Readable>;
  readWordBoundaries(): Promise<WordBoundary[] | undefined>;
}

export interface ResultsReader {
  /** Speech API requests the opening made (a read of the job when no working result URL was at hand). */
  speechRequests: number;
  entries(): AsyncIterable<ResultEntry>;
  close(): Promise<void>;
}

export interface BatchSynthesisPort {
  /** Creates the job, or re-attaches to it when the same id and body were submitted before. */
  createSynthesis(id: string, request: BatchSynthesisRequest): Promise<SynthesisState>;
  /** undefined when the service does not know the id. */
  getSynthesis(id: string): Promise<SynthesisState | undefined>;
  /** Deletes the job; a job already gone is fine. */
  deleteSynthesis(id: string): Promise<void>;
  /** Opens a finished job's results; with `resultUrl` (from the poll that saw it succeed) the job is not read again. */
  openResults(id: string, resultUrl?: string): Promise<ResultsReader>;
}

/** What Speech billed for one chapter's realtime requests: characters of the audio it produced, requests it served. */
export interface RealtimeBilled {
  requests: number;
  characters: number;
}

/**
 * A realtime synthesis that failed after Speech had billed part of it (a long chapter is several requests; a
 * later one failed). The message is the service's reason, free of secrets.
 */
export class RealtimeSynthesisFailure extends Error {
  override readonly name = "RealtimeSynthesisFailure";
  constructor(
    message: string,
    readonly billed: RealtimeBilled,
  ) {
    super(message);
  }
}

export interface RealtimeSynthesisPort {
  /** Rejects with a {@link RealtimeSynthesisFailure} when Speech refused a request (what it billed so far inside). */
  synthesizeLong(request: {
    text?: string;
    ssml?: string;
    voice: string;
    outputFormat: string;
  }): Promise<{ audio: Buffer; durationMs: number } & RealtimeBilled>;
}

export interface SpeechPorts {
  batch: BatchSynthesisPort;
  realtime: RealtimeSynthesisPort;
  makeSynthesisId(parts: { projectId: string; runId: string; jobNumber: number; attempt: number }): string;
}
