/**
 * Limits and defaults of the Speech emulator, in one place (Azurite keeps its constants the same way).
 * Values follow ../../../shared/docs/batch-synthesis-api.md; contested ones are settings.
 */

export const API_VERSION = "2024-04-01";
export const DEFAULT_PORT = 7090;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_KEY = "local-dev-key";

/**
 * Synthesis and Operation-Id rule (S5 `PathId`): 3–64 chars, starts and ends with a letter or digit. Not
 * imported from src/speech/ids.ts on purpose: the emulator stands for the service, so the client's copy of
 * the rule is tested against this one rather than sharing its mistakes.
 */
export const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,62}[a-zA-Z0-9]$/;

/** "allowed up to 10000 items" (S1, S3, S5). */
export const DEFAULT_MAX_INPUTS = 10_000;
/** 2 MB create payload (S1, S2, S3); the swagger's 500 KB is the contested alternative. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
/** Realtime SSML bodies are far smaller than batch payloads; this only guards the emulator. */
export const MAX_REALTIME_BODY_BYTES = 1024 * 1024;

/** "100 requests per 10 seconds per Speech resource" (S1, S3). */
export const RATE_LIMIT_REQUESTS = 100;
export const RATE_LIMIT_WINDOW_MS = 10_000;
/**
 * Realtime text to speech has its own quota: S0 "200 transactions per second" by default (S3,
 * MicrosoftDocs/azure-ai-docs articles/ai-services/speech-service/speech-services-quotas-and-limits.md).
 */
export const REALTIME_RATE_LIMIT_REQUESTS = 200;
export const REALTIME_RATE_LIMIT_WINDOW_MS = 1_000;

/** Default time-to-live echoed in `properties.timeToLiveInHours`: 744 per spec and C# DTO (docs say 168). */
export const DEFAULT_TTL_HOURS = 744;
export const MAX_TTL_HOURS = 744;

/** List paging (S1, S5): maxpagesize defaults to and is capped at 100. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 100;

/**
 * Service-time model (before EMULATOR_TIME_SCALE divides it). About half of real jobs finish within
 * 10–20 s and 95 % within 120 s (S1): a job starts after ~5 s and synthesizes 500 characters a second,
 * so a 15,000-character chapter takes ~35 s.
 */
export const DEFAULT_START_LATENCY_MS = 5_000;
export const DEFAULT_CHARS_PER_SECOND = 500;
/**
 * Inputs of one batch job synthesized at once. A model, not a documented figure: with 8, a 1,432-chapter book
 * (~15,000 characters a chapter) in 100-chapter jobs, 3 at a time, takes about 30 minutes of service time,
 * which is what batch synthesis delivers for such books (versus ~12 hours one realtime request at a time).
 */
export const DEFAULT_INPUT_PARALLELISM = 8;
/** A job stays Running at least this long, so pollers see the documented Running state. */
export const MIN_RUNNING_MS = 2_000;

/** Result SAS lifetime: example URLs show ~12 h (UNCONFIRMED); scaled by EMULATOR_TIME_SCALE. */
export const DEFAULT_RESULT_URL_TTL_SECONDS = 12 * 3600;

/** Realtime endpoint truncates audio at 10 minutes (S11, S3). */
export const REALTIME_MAX_AUDIO_MS = 10 * 60 * 1000;

/**
 * Speech model: ~150 words a minute whatever the word lengths. A word of n letters lasts 200 ms + n × 25 ms
 * plus a 60 ms gap; sentence ends pause 300 ms, commas 150 ms. English prose (4.7 letters a word) lands at
 * ~145, runs of short words ("the the the") at ~165 words a minute: a 15,000-character chapter (~2,500
 * words) lasts ~16–17 minutes. (Length-proportional words made short-word text run at ~200.)
 */
export const MS_PER_WORD = 200;
export const MS_PER_LETTER = 25;
export const MIN_WORD_MS = 120;
export const WORD_GAP_MS = 60;
export const SENTENCE_PAUSE_MS = 300;
export const CLAUSE_PAUSE_MS = 150;
export const LEADING_SILENCE_MS = 50;
export const TRAILING_SILENCE_MS = 100;
export const PUNCTUATION_MARK_MS = 100;

/** Above this much estimated audio in one job, "speech" mode switches to the fast path (frames repeated). */
export const DEFAULT_FAST_AUDIO_THRESHOLD_MS = 2 * 3600 * 1000;

/** Jobs with more inputs than this also take the fast path (one espeak-ng run per input adds up). */
export const FAST_AUDIO_INPUTS_THRESHOLD = 200;

/** Fault markers recognised inside input text (CONTRACT §6). */
export const MARKER_FAIL_INPUT = "[[emulator:fail-input]]";
export const MARKER_FAIL_ALWAYS = "[[emulator:fail-always]]";
export const MARKER_FAIL_JOB = "[[emulator:fail-job]]";
/** Batch renders the input this much slower than realtime does (CONTRACT §8), for `tts-pipeline compare`. */
export const MARKER_DEGRADE = "[[emulator:degrade]]";
export const DEGRADE_SLOWDOWN = 1.25;

/** Request id header the service returns (the C# sample logs it). */
export const REQUEST_ID_HEADER = "apim-request-id";
