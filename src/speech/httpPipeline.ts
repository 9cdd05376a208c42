import {
  type AccessToken,
  isTokenCredential,
  type KeyCredential,
  type TokenCredential,
} from "@azure/core-auth";
import {
  bearerTokenAuthenticationPolicy,
  createPipelineFromOptions,
  type HttpClient,
  type Pipeline,
  type PipelinePolicy,
  type PipelineResponse,
  RestError,
  type RetryStrategy,
  retryPolicy,
} from "@azure/core-rest-pipeline";
import { createClientLogger } from "@azure/logger";

/** Log channel `azure:tts-speech:*` (enable with AZURE_LOG_LEVEL=info); only sanitized requests are logged. */
export const logger = createClientLogger("tts-speech");

/** Entra ID scope of Cognitive Services (Speech); needs a custom-domain endpoint. */
export const COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default";
export const API_KEY_HEADER = "Ocp-Apim-Subscription-Key";

/** Retry bounds. Names follow `PipelineRetryOptions`; `maxRetryTimeInMs` bounds the total time spent waiting. */
export interface SpeechRetryOptions {
  /** Retries after the first attempt; default 6. */
  maxRetries?: number;
  /** First backoff delay; doubled each retry, with jitter; default 1,000 ms. */
  retryDelayInMs?: number;
  /** Largest single backoff delay (a longer `Retry-After` is still honoured, within the total); default 30,000 ms. */
  maxRetryDelayInMs?: number;
  /** Longest time from the first attempt after which no retry starts; default 120,000 ms. */
  maxRetryTimeInMs?: number;
}

export interface SpeechClientOptions {
  retryOptions?: SpeechRetryOptions;
  /** Prefix of the `User-Agent` header, e.g. "tts-pipeline/0.1.0". */
  userAgent?: string;
  /** Batch Synthesis api-version; default 2024-04-01. */
  apiVersion?: string;
  /** Custom transport (tests). */
  httpClient?: HttpClient;
  /** Extra policies, added per retry (after the retry policy). */
  additionalPolicies?: PipelinePolicy[];
  /**
   * Allow plain `http:` to hosts other than loopback (e.g. an emulator in another container). Loopback
   * (`localhost`, 127.0.0.1, ::1) is always allowed; anything else needs https unless this is set.
   */
  allowInsecureConnection?: boolean;
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Whether a request to `url` may go over plain http (credentials included). */
export function allowsInsecureConnection(
  url: string,
  options: Pick<SpeechClientOptions, "allowInsecureConnection">,
): boolean {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:") return false;
  return (
    options.allowInsecureConnection === true ||
    LOOPBACK_HOSTS.has(parsed.hostname) ||
    parsed.hostname.endsWith(".localhost")
  );
}

const DEFAULT_RETRY: Required<SpeechRetryOptions> = {
  maxRetries: 6,
  retryDelayInMs: 1_000,
  maxRetryDelayInMs: 30_000,
  maxRetryTimeInMs: 120_000,
};

/** Network failures worth another try (the same set core's exponential strategy uses, plus a few Node adds). */
const TRANSIENT_NETWORK_CODES = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  RestError.REQUEST_SEND_ERROR,
]);

/** `Retry-After` (seconds or HTTP date), `retry-after-ms` or `x-ms-retry-after-ms`, in ms. */
export function retryAfterInMs(response: PipelineResponse | undefined): number | undefined {
  if (!response) return undefined;
  const ms = response.headers.get("retry-after-ms") ?? response.headers.get("x-ms-retry-after-ms");
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = response.headers.get("retry-after");
  if (value === undefined) return undefined;
  if (Number.isFinite(Number(value))) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Statuses retried: throttling, timeouts and server errors except "not implemented"/"version not supported". */
export function isRetriableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * The retry decision, as a core `RetryStrategy` run by core's `retryPolicy` (which owns the loop, the
 * count and the abortable delay). Differences from `defaultRetryPolicy`: a 429 without `Retry-After`
 * is retried with backoff (Speech does not document that header), and the whole sequence is bounded
 * in time, not only in count.
 */
export function speechRetryStrategy(
  options: SpeechRetryOptions = {},
  now: () => number = Date.now,
): RetryStrategy {
  const o = { ...DEFAULT_RETRY, ...options };
  const startedAt = new WeakMap<object, number>();
  return {
    name: "speechRetryStrategy",
    logger,
    retry({ retryCount, response, responseError }) {
      const status = response?.status;
      const networkFailure =
        !response && responseError !== undefined && TRANSIENT_NETWORK_CODES.has(String(responseError.code));
      if (!(networkFailure || (status !== undefined && isRetriableStatus(status))))
        return { skipStrategy: true };

      const request = response?.request ?? responseError?.request;
      const key = request ?? {};
      if (retryCount === 0 || !startedAt.has(key)) startedAt.set(key, now());
      const elapsed = now() - (startedAt.get(key) ?? now());

      const asked = status === 429 || status === 503 ? retryAfterInMs(response) : undefined;
      let delay: number;
      if (asked !== undefined) {
        delay = asked;
      } else {
        // Exponential backoff with full jitter in the upper half, as core's calculateRetryDelay does.
        const capped = Math.min(o.maxRetryDelayInMs, o.retryDelayInMs * 2 ** retryCount);
        delay = capped / 2 + Math.random() * (capped / 2);
      }
      if (elapsed + delay > o.maxRetryTimeInMs) {
        logger.warning(
          `Not retrying: ${Math.round(elapsed + delay)} ms would exceed ${o.maxRetryTimeInMs} ms.`,
        );
        return { skipStrategy: true };
      }
      return { retryAfterInMs: Math.round(delay) };
    },
  };
}

/** Adds the key as `Ocp-Apim-Subscription-Key` (read per request, so `AzureKeyCredential.update` rotates it). */
export function apiKeyPolicy(credential: KeyCredential): PipelinePolicy {
  return {
    name: "speechApiKeyPolicy",
    sendRequest(request, next) {
      request.headers.set(API_KEY_HEADER, credential.key);
      return next(request);
    },
  };
}

/** Refresh a cached token this long before it expires (core's token cycler uses the same margin). */
const TOKEN_REFRESH_MARGIN_MS = 2 * 60 * 1000;

/**
 * Microsoft Entra ID on the realtime endpoint: `Authorization: Bearer aad#{resourceId}#{token}`, the token for
 * `https://cognitiveservices.azure.com/.default` ("Use Microsoft Entra authentication",
 * https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech#authentication;
 * MicrosoftDocs/azure-ai-docs articles/ai-services/speech-service/includes/cognitive-services-speech-service-rest-auth.md).
 * A plain Entra JWT, which core's `bearerTokenAuthenticationPolicy` sends, is refused there. The token is cached
 * and refreshed before expiry; concurrent requests share one refresh. Never sent over plain http except to
 * loopback or when `allowInsecureConnection` says so (the emulator), like the key.
 */
export function realtimeEntraTokenPolicy(
  credential: TokenCredential,
  resourceId: string | undefined,
  now: () => number = Date.now,
): PipelinePolicy {
  let cached: AccessToken | undefined;
  let refreshing: Promise<AccessToken> | undefined;
  const token = async (): Promise<AccessToken> => {
    if (cached && cached.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_MS > now()) return cached;
    refreshing ??= credential
      .getToken(COGNITIVE_SERVICES_SCOPE)
      .then((fresh) => {
        if (!fresh) throw new Error("The credential returned no token for the Speech realtime endpoint.");
        cached = fresh;
        return fresh;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };
  return {
    name: "speechRealtimeEntraTokenPolicy",
    async sendRequest(request, next) {
      if (!resourceId) {
        throw new TypeError(
          "Realtime synthesis with Microsoft Entra ID needs the Speech resource's ARM id: set SPEECH_RESOURCE_ID (or use SPEECH_KEY).",
        );
      }
      if (!request.url.toLowerCase().startsWith("https://") && !request.allowInsecureConnection) {
        throw new Error("Microsoft Entra tokens are not sent over plain http.");
      }
      request.headers.set("Authorization", `Bearer aad#${resourceId}#${(await token()).token}`);
      return next(request);
    },
  };
}

/**
 * The one place the Speech HTTP pipeline is assembled: core's defaults (user agent, request id,
 * redirect, sanitized logging, tracing), core's retry policy running {@link speechRetryStrategy},
 * and auth as a Sign-phase policy. With `credential` undefined the pipeline sends no credentials
 * (used for SAS result downloads, which must never carry the key or a token to storage).
 */
export function createSpeechPipeline(
  credential: KeyCredential | TokenCredential | undefined,
  options: SpeechClientOptions = {},
  /** Auth policy for a token credential instead of core's bearer policy (the realtime endpoint's own form). */
  tokenPolicy?: (credential: TokenCredential) => PipelinePolicy,
): Pipeline {
  const retry = { ...DEFAULT_RETRY, ...options.retryOptions };
  const pipeline = createPipelineFromOptions({
    userAgentOptions: { userAgentPrefix: options.userAgent ?? "tts-pipeline" },
    loggingOptions: {
      logger: logger.info,
      additionalAllowedHeaderNames: [
        "Operation-Id",
        "Operation-Location",
        "x-ms-error-code",
        "apim-request-id",
        "x-ms-request-id",
        "Retry-After",
        "X-Microsoft-OutputFormat",
      ],
      additionalAllowedQueryParameters: ["api-version", "skip", "maxpagesize"],
    },
  });
  pipeline.removePolicy({ name: "defaultRetryPolicy" });
  pipeline.addPolicy(retryPolicy([speechRetryStrategy(retry)], { maxRetries: retry.maxRetries, logger }), {
    phase: "Retry",
  });
  if (credential && isTokenCredential(credential)) {
    pipeline.addPolicy(
      tokenPolicy
        ? tokenPolicy(credential)
        : bearerTokenAuthenticationPolicy({ credential, scopes: COGNITIVE_SERVICES_SCOPE }),
      { phase: "Sign" },
    );
  } else if (credential) {
    pipeline.addPolicy(apiKeyPolicy(credential), { phase: "Sign" });
  }
  for (const policy of options.additionalPolicies ?? []) pipeline.addPolicy(policy, { afterPhase: "Retry" });
  return pipeline;
}
