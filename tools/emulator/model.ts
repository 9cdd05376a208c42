import { z } from "zod";

/** Job statuses of the S5 `Status` enum. */
export type JobStatus = "NotStarted" | "Running" | "Succeeded" | "Failed";
export type InputKind = "PlainText" | "SSML";

export interface SynthesisProperties {
  outputFormat: string;
  concatenateResult: boolean;
  decompressOutputFiles: boolean;
  wordBoundaryEnabled: boolean;
  sentenceBoundaryEnabled: boolean;
  timeToLiveInHours: number;
  destinationContainerUrl?: string;
  destinationPath?: string;
}

/** The create request once validated and normalised (what the job keeps). */
export interface SynthesisRequest {
  inputKind: InputKind;
  inputs: string[];
  description?: string;
  synthesisConfig?: Record<string, unknown> & { voice?: string };
  customVoices: Record<string, string>;
  properties: SynthesisProperties;
}

/** What production of a job yields (aggregates; per-input details live in the results manifest). */
export interface JobOutcome {
  sizeInBytes: number;
  durationInMilliseconds: number;
  succeededAudioCount: number;
  failedAudioCount: number;
  billedCharacters: number;
  error?: { code: string; message: string };
  /** Whether a results.zip can be served / was written. */
  hasResults: boolean;
}

export interface JobRecord {
  id: string;
  /** Unique per created job: a job deleted and created again under the same id is another instance. */
  instance: string;
  operationId: string;
  /** sha256 of the canonical request; an identical PUT re-attaches. */
  requestHash: string;
  request: SynthesisRequest;
  /** Billable characters of all inputs (Azure's rule). */
  billableCharacters: number;
  createdAt: number;
  /** Simulated timeline (absolute clock ms, already scaled): when it starts running and when it may finish. */
  startAt: number;
  finishAt: number;
  status: JobStatus;
  lastActionAt: number;
  /** Set once audio production finished. */
  outcome?: JobOutcome;
  /** Clock time at which production finished (finish is max(finishAt, producedAt)). */
  producedAt?: number;
}

export function emptyUsage(): Usage {
  return {
    requests: { create: 0, get: 0, list: 0, delete: 0, realtime: 0, throttled: 0 },
    jobs: 0,
    inputs: 0,
    billableCharacters: 0,
    realtimeCharacters: 0,
  };
}

export const usageSchema = z.object({
  requests: z.object({
    create: z.number(),
    get: z.number(),
    list: z.number(),
    delete: z.number(),
    realtime: z.number(),
    throttled: z.number(),
  }),
  jobs: z.number(),
  inputs: z.number(),
  billableCharacters: z.number(),
  realtimeCharacters: z.number(),
});
export type Usage = z.infer<typeof usageSchema>;

/** One line of word.json / sentence.json (milliseconds, S1). */
export interface Boundary {
  Text: string;
  AudioOffset: number;
  Duration: number;
}

/** Per output file (one per input, or one for all inputs with concatenateResult). */
export interface UnitManifest {
  /** 1-based number: 0001, 0002, ... */
  number: number;
  contents: string[];
  status: "Succeeded" | "Failed";
  error?: { code: string; message: string };
  audioFileName?: string;
  sizeInBytes: number;
  durationInMilliseconds: number;
  /** Audio source: a file under the job's results directory, or a recipe for the fast path. */
  audio?: { kind: "file"; file: string } | { kind: "fast"; format: string; durationMs: number };
  /**
   * word.json / sentence.json, written next to the audio. `generated`: regenerated from `spokenTexts` while
   * zipping, as the fast path did before it wrote them too (kept so results produced before still read).
   */
  sidecars: { name: string; size: number; generated?: "word" | "sentence" }[];
  /** `generated` sidecars only: the spoken texts (markup removed) the boundaries are planned from. */
  spokenTexts?: string[];
  /** `generated` sidecars only: `[[emulator:degrade]]` slowed the unit down by this factor (absent: 1). */
  slowdown?: number;
  billedCharacters: number;
  engine: string;
}

export interface ResultsManifest {
  jobId: string;
  status: "Succeeded" | "Failed";
  extension: string;
  wordBoundaryEnabled: boolean;
  sentenceBoundaryEnabled: boolean;
  units: UnitManifest[];
}
