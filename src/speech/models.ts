import { z } from "zod";

/**
 * Batch Synthesis wire models (api-version 2024-04-01, spec `batchsynthesis.json`), parsed tolerantly:
 * unknown fields are kept, unknown status strings are kept, numbers may arrive as strings, timestamps
 * may lack their `Z`, and both billing key spellings are accepted.
 */

/** Job and operation status; an open enum (the spec marks it `modelAsString`). */
export type SynthesisStatus = "NotStarted" | "Running" | "Succeeded" | "Failed" | (string & {});

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["Succeeded", "Failed"]);

/** True once a job has finished, successfully or not. */
export function isTerminalStatus(status: string): boolean {
  return TERMINAL_STATUSES.has(status);
}

export interface SynthesisConfig {
  voice: string;
  style?: string;
  rate?: string;
  pitch?: string;
  volume?: string;
  role?: string;
  styleDegree?: string | number;
  speakerProfileId?: string;
  backgroundAudio?: { src: string; fadein?: number; fadeout?: number; volume?: number };
}

export interface BatchSynthesisProperties {
  outputFormat?: string;
  concatenateResult?: boolean;
  decompressOutputFiles?: boolean;
  wordBoundaryEnabled?: boolean;
  sentenceBoundaryEnabled?: boolean;
  /** Container SAS URL; results are written there instead of Microsoft-managed storage. */
  destinationContainerUrl?: string;
  destinationPath?: string;
  timeToLiveInHours?: number;
}

/** The body of a create (PUT) request. */
export interface BatchSynthesisRequest {
  inputKind: "PlainText" | "SSML";
  inputs: { content: string }[];
  /** Required for PlainText. */
  synthesisConfig?: SynthesisConfig;
  customVoices?: Record<string, string>;
  description?: string;
  properties?: BatchSynthesisProperties;
}

/** Billed characters by voice class; zero classes may be absent. */
export interface BillingDetails {
  neuralCharacters?: number;
  customNeuralCharacters?: number;
  aoaiCharacters?: number;
  aoaiHDCharacters?: number;
  personalVoiceCharacters?: number;
  /** Sum over every class reported. */
  totalCharacters: number;
}

export interface BatchSynthesis {
  id: string;
  status: SynthesisStatus;
  createdDateTime?: string;
  lastActionDateTime?: string;
  inputKind?: string;
  description?: string;
  synthesisConfig?: Partial<SynthesisConfig> & Record<string, unknown>;
  customVoices?: Record<string, string>;
  properties: BatchSynthesisProperties & {
    sizeInBytes?: number;
    succeededAudioCount?: number;
    failedAudioCount?: number;
    durationInMilliseconds?: number;
    billingDetails?: BillingDetails;
    error?: { code?: string; message: string };
  };
  /**
   * `outputs.result` is a SAS URL (a secret). It is kept as a non-enumerable property so that logging or
   * serializing the job (JSON, durable history) drops it; `openResults` re-reads the job when it is missing.
   */
  outputs?: { result?: string; summary?: string };
  /** `Operation-Id` of the create call, when this object came from a create. */
  operationId?: string;
}

export interface SynthesisOperation {
  id: string;
  status: SynthesisStatus;
}

const looseNumber = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v),
  z.number().finite(),
);
const optionalNumber = looseNumber.optional().catch(undefined);
const optionalBoolean = z
  .preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean())
  .optional()
  .catch(undefined);

/** ISO timestamp normalized to UTC with a `Z` ("2024-03-12T07:23:18.7979669" -> "...18.7979669Z"). */
export function normalizeTimestamp(value: string): string {
  const trimmed = value.trim();
  return /(?:Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) || !/^\d{4}-\d{2}-\d{2}T/.test(trimmed)
    ? trimmed
    : `${trimmed}Z`;
}
const timestamp = z.string().transform(normalizeTimestamp).optional().catch(undefined);

/** Billing keys as the spec names them, and the short spellings its own examples use. */
const BILLING_KEYS: Record<string, keyof Omit<BillingDetails, "totalCharacters">> = {
  neuralcharacters: "neuralCharacters",
  neural: "neuralCharacters",
  customneuralcharacters: "customNeuralCharacters",
  customneural: "customNeuralCharacters",
  aoaicharacters: "aoaiCharacters",
  aoai: "aoaiCharacters",
  aoaihdcharacters: "aoaiHDCharacters",
  aoaihd: "aoaiHDCharacters",
  personalvoicecharacters: "personalVoiceCharacters",
  personalvoice: "personalVoiceCharacters",
};

const billingSchema = z.record(z.string(), z.unknown()).transform((raw): BillingDetails => {
  const out: BillingDetails = { totalCharacters: 0 };
  for (const [key, value] of Object.entries(raw)) {
    const n = typeof value === "string" ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n)) continue;
    const name = BILLING_KEYS[key.toLowerCase()];
    if (name) out[name] = (out[name] ?? 0) + n;
    out.totalCharacters += n;
  }
  return out;
});

const jobErrorSchema = z
  .looseObject({ code: z.string().optional(), message: z.string().optional() })
  .transform((e) => ({
    ...(e.code ? { code: e.code } : {}),
    message: e.message ?? e.code ?? "Unknown error",
  }));

export const batchSynthesisSchema = z
  .looseObject({
    id: z.string(),
    status: z.string().catch("Unknown"),
    createdDateTime: timestamp,
    lastActionDateTime: timestamp,
    inputKind: z.string().optional().catch(undefined),
    description: z.string().optional().catch(undefined),
    synthesisConfig: z.looseObject({}).optional().catch(undefined),
    customVoices: z.record(z.string(), z.string()).optional().catch(undefined),
    properties: z
      .looseObject({
        outputFormat: z.string().optional().catch(undefined),
        concatenateResult: optionalBoolean,
        decompressOutputFiles: optionalBoolean,
        wordBoundaryEnabled: optionalBoolean,
        sentenceBoundaryEnabled: optionalBoolean,
        destinationContainerUrl: z.string().optional().catch(undefined),
        destinationPath: z.string().optional().catch(undefined),
        timeToLiveInHours: optionalNumber,
        sizeInBytes: optionalNumber,
        succeededAudioCount: optionalNumber,
        failedAudioCount: optionalNumber,
        durationInMilliseconds: optionalNumber,
        billingDetails: billingSchema.optional().catch(undefined),
        error: jobErrorSchema.optional().catch(undefined),
      })
      .default({}),
    outputs: z
      .looseObject({ result: z.string().optional(), summary: z.string().optional() })
      .optional()
      .catch(undefined),
  })
  // Some gateways put `error` at the top level; fold it into properties.error as the spec has it.
  .transform((job) => {
    const topError = (job as Record<string, unknown>).error;
    if (!job.properties.error && topError && typeof topError === "object") {
      const parsed = jobErrorSchema.safeParse(topError);
      if (parsed.success) job.properties.error = parsed.data;
    }
    return job;
  });

/** Parses a job body; `outputs` becomes non-enumerable (see {@link BatchSynthesis.outputs}). */
export function toBatchSynthesis(body: unknown, operationId?: string): BatchSynthesis {
  const parsed = batchSynthesisSchema.parse(body);
  const { outputs, ...rest } = parsed;
  const job = rest as unknown as BatchSynthesis;
  if (operationId) job.operationId = operationId;
  if (outputs) Object.defineProperty(job, "outputs", { value: outputs, enumerable: false, writable: true });
  return job;
}

export const operationSchema = z.looseObject({ id: z.string(), status: z.string().catch("Unknown") });

export const pageSchema = z.looseObject({
  value: z.array(z.unknown()).default([]),
  nextLink: z.string().nullish(),
  "@nextLink": z.string().nullish(),
});

/** One `summary.json` entry; sizes and durations arrive as strings. */
export const summaryResultSchema = z.looseObject({
  status: z.string().catch("Unknown"),
  audioFileName: z.string().optional().catch(undefined),
  wordBoundaryFileName: z.string().optional().catch(undefined),
  sentenceBoundaryFileName: z.string().optional().catch(undefined),
  properties: z
    .looseObject({
      sizeInBytes: optionalNumber,
      durationInMilliseconds: optionalNumber,
      error: z.unknown().optional(),
      errorMessage: z.string().optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
  error: z.unknown().optional(),
  errorMessage: z.string().optional().catch(undefined),
  errorCode: z.string().optional().catch(undefined),
});

export const summarySchema = z.looseObject({
  jobID: z.string().optional().catch(undefined),
  jobId: z.string().optional().catch(undefined),
  status: z.string().optional().catch(undefined),
  results: z.array(z.unknown()).default([]),
});

/** A word boundary (ms), from `[nnnn].word.json` (`Text`, `AudioOffset`, `Duration`). */
export interface WordBoundary {
  text: string;
  offsetMs: number;
  durationMs: number;
}

export const wordBoundariesSchema = z.array(
  z
    .looseObject({
      Text: z.string().optional(),
      text: z.string().optional(),
      AudioOffset: looseNumber.optional(),
      audioOffset: looseNumber.optional(),
      Duration: looseNumber.optional(),
      duration: looseNumber.optional(),
    })
    .transform(
      (w): WordBoundary => ({
        text: w.Text ?? w.text ?? "",
        offsetMs: w.AudioOffset ?? w.audioOffset ?? 0,
        durationMs: w.Duration ?? w.duration ?? 0,
      }),
    ),
);
