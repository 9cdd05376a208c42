import { isRestError, type PipelineResponse, RestError } from "@azure/core-rest-pipeline";
import { z } from "zod";
import { sanitizeMessage } from "../config/secrets.js";

// One redaction for Speech errors and the pipeline's log lines (src/config/secrets.ts); re-exported here for
// the Speech clients' callers.
export { sanitizeMessage, sanitizeUrl } from "../config/secrets.js";

/** The spec's `ErrorResponse` envelope, read tolerantly (the preview API and gateways also send flat or odd shapes). */
const innerErrorSchema: z.ZodType<{ code?: string; message?: string; innererror?: unknown }> = z.looseObject({
  code: z.string().optional(),
  message: z.string().optional(),
  innererror: z.unknown().optional(),
});
const errorBodySchema = z.looseObject({
  code: z.string().optional(),
  message: z.string().optional(),
  target: z.string().optional(),
  details: z.array(z.unknown()).optional(),
  innererror: innerErrorSchema.optional(),
  innerError: innerErrorSchema.optional(),
});
const errorEnvelopeSchema = z.union([
  z.looseObject({ error: errorBodySchema }),
  errorBodySchema,
  // ASP.NET validation problem details: { errors: { field: [messages] }, title, status }
  z.looseObject({ title: z.string(), errors: z.record(z.string(), z.array(z.string())).optional() }),
]);

export interface SpeechServiceErrorOptions {
  code?: string;
  statusCode?: number;
  requestId?: string;
  innerErrorCode?: string;
  target?: string;
  details?: unknown[];
  /** Milliseconds the service asked to wait (429/503 `Retry-After`), when it said. */
  retryAfterInMs?: number;
}

/**
 * An error response from the Speech service: its code (`x-ms-error-code` or `error.code`), message,
 * HTTP status and request id (`apim-request-id` / `x-ms-request-id`). Never carries the request's
 * headers (key, bearer token) and its message has SAS signatures removed.
 */
export class SpeechServiceError extends RestError {
  declare code: string | undefined;
  readonly requestId: string | undefined;
  readonly innerErrorCode: string | undefined;
  readonly target: string | undefined;
  override details: unknown[] | undefined;
  readonly retryAfterInMs: number | undefined;

  constructor(message: string, options: SpeechServiceErrorOptions = {}) {
    super(message, { code: options.code, statusCode: options.statusCode });
    // RestError resets the prototype to its own; restore ours so instanceof works.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "SpeechServiceError";
    this.requestId = options.requestId;
    this.innerErrorCode = options.innerErrorCode;
    this.target = options.target;
    this.details = options.details;
    this.retryAfterInMs = options.retryAfterInMs;
  }
}

/** True for a {@link SpeechServiceError}, also across module copies (checks the name, as `isRestError` does). */
export function isSpeechServiceError(error: unknown): error is SpeechServiceError {
  return (
    error instanceof SpeechServiceError || (error instanceof Error && error.name === "SpeechServiceError")
  );
}

/** Creating a synthesis under an id that already holds a different request. */
export class SynthesisConflictError extends Error {
  override readonly name = "SynthesisConflictError";
  constructor(
    readonly synthesisId: string,
    readonly differences: string[],
  ) {
    super(
      `A batch synthesis with id "${synthesisId}" already exists with a different request (${differences.join(", ")}); ` +
        "use a new id (e.g. the next attempt number) instead of overwriting it.",
    );
  }
}

/** The request id a Speech response carries, under whichever header the gateway used. */
export function requestIdOf(response: Pick<PipelineResponse, "headers">): string | undefined {
  return (
    response.headers.get("apim-request-id") ??
    response.headers.get("x-ms-request-id") ??
    response.headers.get("x-request-id") ??
    undefined
  );
}

function retryAfterOf(response: Pick<PipelineResponse, "headers">): number | undefined {
  const ms = Number(
    response.headers.get("retry-after-ms") ?? response.headers.get("x-ms-retry-after-ms") ?? Number.NaN,
  );
  if (Number.isFinite(ms)) return ms;
  const value = response.headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

const STATUS_CODES: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  415: "UnsupportedMediaType",
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
};

/**
 * Builds the one error type from a non-2xx response (`bodyText` already read). `secrets` (the key)
 * are scrubbed from the message in case a proxy echoed them.
 */
export function createSpeechError(
  response: Pick<PipelineResponse, "status" | "headers">,
  bodyText: string | undefined,
  secrets: readonly string[] = [],
): SpeechServiceError {
  let parsedBody: unknown;
  try {
    parsedBody = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    parsedBody = undefined;
  }
  const envelope = errorEnvelopeSchema.safeParse(parsedBody);
  let code: string | undefined;
  let message: string | undefined;
  let target: string | undefined;
  let details: unknown[] | undefined;
  let innerErrorCode: string | undefined;
  if (envelope.success) {
    const data = envelope.data as Record<string, unknown>;
    const body = ("error" in data && typeof data.error === "object" ? data.error : data) as z.infer<
      typeof errorBodySchema
    > & {
      title?: string;
      errors?: Record<string, string[]>;
    };
    code = body.code;
    message = body.message;
    target = body.target;
    details = body.details;
    innerErrorCode = (body.innererror ?? body.innerError)?.code;
    if (!message && body.title) {
      const fieldErrors = Object.entries(body.errors ?? {}).map(
        ([field, msgs]) => `${field}: ${msgs.join(" ")}`,
      );
      message = [body.title, ...fieldErrors].join(" ");
    }
  }
  if (!envelope.success && bodyText?.trimStart().startsWith("<")) {
    // Azure Storage (result downloads) answers in XML: <Error><Code>…</Code><Message>…</Message></Error>.
    code = /<Code>([^<]+)<\/Code>/.exec(bodyText)?.[1];
    message = /<Message>([^<]+)<\/Message>/.exec(bodyText)?.[1]?.split("\n")[0];
  }
  code =
    response.headers.get("x-ms-error-code") ??
    code ??
    STATUS_CODES[response.status] ??
    `Http${response.status}`;
  if (!message) {
    const plain = bodyText && !parsedBody ? bodyText.trim().slice(0, 300) : "";
    message = plain || `The Speech service answered ${response.status}.`;
  }
  const requestId = requestIdOf(response);
  return new SpeechServiceError(sanitizeMessage(message, secrets), {
    code,
    statusCode: response.status,
    requestId,
    innerErrorCode,
    target,
    details,
    retryAfterInMs: retryAfterOf(response),
  });
}

/**
 * A transport failure (connection refused, reset, timeout) after the retries, as a SpeechServiceError
 * with a sanitized message: core's RestError keeps the request (URL with SAS, key header) on it.
 */
export function toTransportError(error: unknown, secrets: readonly string[]): unknown {
  if (!isRestError(error) || isSpeechServiceError(error)) return error;
  return new SpeechServiceError(sanitizeMessage(error.message, secrets), {
    code: error.code ?? "REQUEST_SEND_ERROR",
    ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
  });
}
