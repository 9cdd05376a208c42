import { z } from "zod";
import { type Clock, systemClock } from "./clock.js";
import {
  DEFAULT_CHARS_PER_SECOND,
  DEFAULT_FAST_AUDIO_THRESHOLD_MS,
  DEFAULT_HOST,
  DEFAULT_INPUT_PARALLELISM,
  DEFAULT_KEY,
  DEFAULT_MAX_INPUTS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_RESULT_URL_TTL_SECONDS,
  DEFAULT_START_LATENCY_MS,
  DEFAULT_TTL_HOURS,
  RATE_LIMIT_REQUESTS,
  RATE_LIMIT_WINDOW_MS,
  REALTIME_RATE_LIMIT_REQUESTS,
  REALTIME_RATE_LIMIT_WINDOW_MS,
} from "./constants.js";

export type AudioMode = "speech" | "synthetic" | "fast";

export interface EmulatorOptions {
  /** 0 = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** EMULATOR_KEY, default "local-dev-key". Any `Authorization: Bearer` token is accepted too. */
  key?: string;
  /** Persist jobs, usage and results here; in memory when omitted. */
  stateDir?: string;
  /** EMULATOR_TIME_SCALE: every service duration (start latency, synthesis, result URL lifetime) is divided by it. */
  timeScale?: number;
  /** EMULATOR_CHARS_PER_SECOND: synthesis speed of the simulated service. */
  charsPerSecond?: number;
  /** EMULATOR_INPUT_PARALLELISM: inputs of one job synthesized at once on the simulated timeline. */
  inputParallelism?: number;
  /** EMULATOR_MAX_INPUTS (default 10,000). */
  maxInputs?: number;
  /**
   * EMULATOR_MAX_PAYLOAD_BYTES: create-body limit. Default 2 MB, what the articles say (batch-synthesis.md "The
   * maximum JSON payload size that's accepted is 2 megabytes"); the 2024-04-01 spec says 500 KB (set 512000).
   */
  maxPayloadBytes?: number;
  /** EMULATOR_PAYLOAD_STATUS: answer to an oversized create, 400 naming the size (default) or 413. */
  payloadTooLargeStatus?: 400 | 413;
  /** EMULATOR_AUDIO: "speech" (espeak-ng when installed), "synthetic" (generated signal), "fast" (repeated frames). */
  audioMode?: AudioMode;
  /** Environment to read EMULATOR_* defaults from (default process.env). */
  env?: NodeJS.ProcessEnv;

  // Further settings (all optional; env names in docs/emulator.md).
  /** Injected time source (tests); default the system clock. */
  clock?: Clock;
  /** EMULATOR_START_LATENCY_MS (service time, before scaling). */
  startLatencyMs?: number;
  /** EMULATOR_RESULT_URL_TTL_SECONDS (service time, before scaling). */
  resultUrlTtlSeconds?: number;
  /** EMULATOR_TTL_HOURS: default `timeToLiveInHours` (744 per spec, 168 per docs). */
  defaultTtlHours?: number;
  /** EMULATOR_MISSING_STATUS: answer for GET/DELETE of an unknown id (404, or 204 as the docs also say). */
  missingJobStatus?: 404 | 204;
  /** EMULATOR_CONFLICT_STATUS: answer for a different request under an existing id (409 default, or 400). */
  conflictStatus?: 409 | 400;
  /** EMULATOR_JOB_CONCURRENCY: jobs running at once on the simulated timeline; 0 = unlimited. */
  jobConcurrency?: number;
  /** EMULATOR_WORKERS: audio generation workers (real CPU). */
  workers?: number;
  /** EMULATOR_RATE_LIMIT ("100/10000" = requests per window ms; "off" disables). */
  rateLimit?: { requests: number; windowMs: number } | false;
  /** EMULATOR_FAST_AUDIO_THRESHOLD_MS: in speech/synthetic mode, jobs with more estimated audio use the fast path. */
  fastAudioThresholdMs?: number;
  /** Public base URL used in Operation-Location, nextLink and result URLs; default the listening URL. */
  publicUrl?: string;
  /**
   * EMULATOR_RESOURCE_ID: ARM id of the emulated Speech resource. When set, a realtime
   * `aad#{resourceId}#{token}` bearer must name it; when unset, any Speech account ARM id is accepted.
   */
  resourceId?: string;
  /**
   * EMULATOR_PRIVATE_ENDPOINT ("true"): the resource has a private endpoint, so realtime is also served at the
   * custom-domain path `/tts/cognitiveservices/v1` (documented only for private endpoints); otherwise that path is 404.
   */
  privateEndpoint?: boolean;
  /** EMULATOR_REALTIME_RATE_LIMIT ("200/1000" = S0's 200 transactions per second; "off" disables). */
  realtimeRateLimit?: { requests: number; windowMs: number } | false;
  /** EMULATOR_RETRY_AFTER ("off"): 429s without a Retry-After header (the docs do not promise one). */
  retryAfter?: boolean;
}

export interface ResolvedConfig {
  port: number;
  host: string;
  key: string;
  stateDir: string | undefined;
  timeScale: number;
  charsPerSecond: number;
  inputParallelism: number;
  maxInputs: number;
  maxPayloadBytes: number;
  payloadTooLargeStatus: 400 | 413;
  audioMode: AudioMode;
  clock: Clock;
  /**
   * Where the modelled timeline meets the clock (the emulator's start): with `timeScale` N, the times the API
   * reports run N times faster than the clock from here (`modelledTime`).
   */
  timeOrigin: number;
  startLatencyMs: number;
  resultUrlTtlSeconds: number;
  defaultTtlHours: number;
  missingJobStatus: 404 | 204;
  conflictStatus: 409 | 400;
  jobConcurrency: number;
  workers: number;
  rateLimit: { requests: number; windowMs: number } | false;
  fastAudioThresholdMs: number;
  publicUrl: string | undefined;
  resourceId: string | undefined;
  privateEndpoint: boolean;
  realtimeRateLimit: { requests: number; windowMs: number } | false;
  retryAfter: boolean;
}

const positive = z.coerce.number().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();

const envSchema = z.object({
  EMULATOR_KEY: z.string().min(1).optional(),
  EMULATOR_TIME_SCALE: positive.optional(),
  EMULATOR_CHARS_PER_SECOND: positive.optional(),
  EMULATOR_MAX_INPUTS: nonNegativeInt.optional(),
  EMULATOR_MAX_PAYLOAD_BYTES: nonNegativeInt.optional(),
  EMULATOR_PAYLOAD_STATUS: z.enum(["400", "413"]).optional(),
  EMULATOR_AUDIO: z.enum(["speech", "synthetic", "fast"]).optional(),
  EMULATOR_START_LATENCY_MS: nonNegativeInt.optional(),
  EMULATOR_RESULT_URL_TTL_SECONDS: positive.optional(),
  EMULATOR_TTL_HOURS: z.coerce.number().int().min(1).max(744).optional(),
  EMULATOR_MISSING_STATUS: z.enum(["404", "204"]).optional(),
  EMULATOR_CONFLICT_STATUS: z.enum(["409", "400"]).optional(),
  EMULATOR_JOB_CONCURRENCY: nonNegativeInt.optional(),
  EMULATOR_INPUT_PARALLELISM: z.coerce.number().int().min(1).optional(),
  EMULATOR_WORKERS: z.coerce.number().int().min(1).optional(),
  EMULATOR_RATE_LIMIT: z
    .string()
    .regex(/^(off|\d+\/\d+)$/)
    .optional(),
  EMULATOR_FAST_AUDIO_THRESHOLD_MS: nonNegativeInt.optional(),
  EMULATOR_PUBLIC_URL: z.string().url().optional(),
  EMULATOR_RESOURCE_ID: z.string().min(1).optional(),
  EMULATOR_PRIVATE_ENDPOINT: z.enum(["true", "false"]).optional(),
  EMULATOR_REALTIME_RATE_LIMIT: z
    .string()
    .regex(/^(off|\d+\/\d+)$/)
    .optional(),
  EMULATOR_RETRY_AFTER: z.enum(["on", "off"]).optional(),
});

function parseRateLimit(
  value: string | undefined,
): { requests: number; windowMs: number } | false | undefined {
  if (value === undefined) return undefined;
  if (value === "off") return false;
  const [requests, windowMs] = value.split("/").map(Number);
  return { requests: requests ?? RATE_LIMIT_REQUESTS, windowMs: windowMs ?? RATE_LIMIT_WINDOW_MS };
}

/** Options win over EMULATOR_* variables, which win over the defaults. */
export function resolveConfig(options: EmulatorOptions = {}): ResolvedConfig {
  const env = envSchema.parse(pickEmulatorEnv(options.env ?? process.env));
  return {
    port: options.port ?? 0,
    host: options.host ?? DEFAULT_HOST,
    key: options.key ?? env.EMULATOR_KEY ?? DEFAULT_KEY,
    stateDir: options.stateDir,
    timeScale: options.timeScale ?? env.EMULATOR_TIME_SCALE ?? 1,
    charsPerSecond: options.charsPerSecond ?? env.EMULATOR_CHARS_PER_SECOND ?? DEFAULT_CHARS_PER_SECOND,
    inputParallelism: options.inputParallelism ?? env.EMULATOR_INPUT_PARALLELISM ?? DEFAULT_INPUT_PARALLELISM,
    maxInputs: options.maxInputs ?? env.EMULATOR_MAX_INPUTS ?? DEFAULT_MAX_INPUTS,
    maxPayloadBytes: options.maxPayloadBytes ?? env.EMULATOR_MAX_PAYLOAD_BYTES ?? DEFAULT_MAX_PAYLOAD_BYTES,
    payloadTooLargeStatus:
      options.payloadTooLargeStatus ?? (env.EMULATOR_PAYLOAD_STATUS === "413" ? 413 : 400),
    audioMode: options.audioMode ?? env.EMULATOR_AUDIO ?? "speech",
    clock: options.clock ?? systemClock,
    timeOrigin: (options.clock ?? systemClock).now(),
    startLatencyMs: options.startLatencyMs ?? env.EMULATOR_START_LATENCY_MS ?? DEFAULT_START_LATENCY_MS,
    resultUrlTtlSeconds:
      options.resultUrlTtlSeconds ?? env.EMULATOR_RESULT_URL_TTL_SECONDS ?? DEFAULT_RESULT_URL_TTL_SECONDS,
    defaultTtlHours: options.defaultTtlHours ?? env.EMULATOR_TTL_HOURS ?? DEFAULT_TTL_HOURS,
    missingJobStatus: options.missingJobStatus ?? (env.EMULATOR_MISSING_STATUS === "204" ? 204 : 404),
    conflictStatus: options.conflictStatus ?? (env.EMULATOR_CONFLICT_STATUS === "400" ? 400 : 409),
    jobConcurrency: options.jobConcurrency ?? env.EMULATOR_JOB_CONCURRENCY ?? 0,
    workers: options.workers ?? env.EMULATOR_WORKERS ?? 2,
    rateLimit: options.rateLimit ??
      parseRateLimit(env.EMULATOR_RATE_LIMIT) ?? {
        requests: RATE_LIMIT_REQUESTS,
        windowMs: RATE_LIMIT_WINDOW_MS,
      },
    fastAudioThresholdMs:
      options.fastAudioThresholdMs ?? env.EMULATOR_FAST_AUDIO_THRESHOLD_MS ?? DEFAULT_FAST_AUDIO_THRESHOLD_MS,
    publicUrl: options.publicUrl ?? env.EMULATOR_PUBLIC_URL,
    resourceId: options.resourceId ?? env.EMULATOR_RESOURCE_ID,
    privateEndpoint: options.privateEndpoint ?? env.EMULATOR_PRIVATE_ENDPOINT === "true",
    realtimeRateLimit: options.realtimeRateLimit ??
      parseRateLimit(env.EMULATOR_REALTIME_RATE_LIMIT) ?? {
        requests: REALTIME_RATE_LIMIT_REQUESTS,
        windowMs: REALTIME_RATE_LIMIT_WINDOW_MS,
      },
    retryAfter: options.retryAfter ?? env.EMULATOR_RETRY_AFTER !== "off",
  };
}

/** Empty strings count as unset, so `EMULATOR_X=` in a shell does not break parsing. */
function pickEmulatorEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("EMULATOR_") && value !== undefined && value !== "") picked[name] = value;
  }
  return picked;
}

/**
 * A clock time as the API reports it: on the modelled timeline, which runs `timeScale` times faster than the
 * clock from the emulator's start, like the local Functions host's orchestration clock (LOCAL_HOST_TIME_SCALE,
 * tools/local-host/durable/virtualClock.ts). So a job's `lastActionDateTime` − `createdDateTime` is the
 * service time the model gave it, as on Azure, where both clocks are real; the pipeline's poll plan reads it.
 */
export function modelledTime(config: Pick<ResolvedConfig, "timeScale" | "timeOrigin">, ms: number): number {
  return config.timeOrigin + (ms - config.timeOrigin) * config.timeScale;
}
