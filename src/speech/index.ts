export {
  BatchSynthesisClient,
  type BatchSynthesisClientOptions,
  DEFAULT_API_VERSION,
  type ListSynthesesOptions,
  type OpenResultsOptions,
  type OperationOptions,
  type PagedAsyncIterableIterator,
  type PageSettings,
  requestFingerprint,
} from "./BatchSynthesisClient.js";
export {
  batchEndpointOf,
  createSpeechClients,
  realtimeEndpointOf,
  speechCredentialOf,
} from "./createSpeechClients.js";
export {
  createSpeechError,
  isSpeechServiceError,
  requestIdOf,
  SpeechServiceError,
  type SpeechServiceErrorOptions,
  SynthesisConflictError,
  sanitizeMessage,
  sanitizeUrl,
  toTransportError,
} from "./errors.js";
export * from "./formats.js";
export {
  API_KEY_HEADER,
  allowsInsecureConnection,
  COGNITIVE_SERVICES_SCOPE,
  createSpeechPipeline,
  type SpeechClientOptions,
  type SpeechRetryOptions,
  speechRetryStrategy,
} from "./httpPipeline.js";
export {
  assertValidSynthesisId,
  isValidSynthesisId,
  jobNumberOfSynthesisId,
  makeSynthesisId,
  SYNTHESIS_ID_PATTERN,
} from "./ids.js";
export {
  type BatchSynthesis,
  type BatchSynthesisProperties,
  type BatchSynthesisRequest,
  type BillingDetails,
  isTerminalStatus,
  normalizeTimestamp,
  type SynthesisConfig,
  type SynthesisOperation,
  type SynthesisStatus,
  TERMINAL_STATUSES,
  toBatchSynthesis,
  type WordBoundary,
} from "./models.js";
export {
  type RealtimeRequestSizing,
  RealtimeSynthesisClient,
  type RealtimeSynthesisClientOptions,
  RealtimeSynthesisError,
  realtimeRequests,
  type SynthesizeLongInput,
  type SynthesizeLongOptions,
  type SynthesizeLongResult,
  TRUNCATED_AUDIO_MS,
} from "./RealtimeSynthesisClient.js";
export type { SynthesisResultEntry, SynthesisResults, SynthesisSummary } from "./resultsZip.js";
