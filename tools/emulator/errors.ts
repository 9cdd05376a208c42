/**
 * Errors rendered in the service's wire format: `{"error":{"code","message"}}` plus `x-ms-error-code`
 * (S5 `ErrorResponse`). One factory method per service error, like Azurite's StorageErrorFactory.
 */

/** Top-level codes of the S5 `ErrorCode` enum (only documented codes reach the wire). */
export type SpeechErrorCode =
  | "BadRequest"
  | "BadArgument"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "UnsupportedMediaType"
  | "TooManyRequests"
  | "InternalServerError"
  | "ServiceUnavailable";

export class SpeechError extends Error {
  constructor(
    readonly status: number,
    readonly code: SpeechErrorCode | string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly innerCode?: string,
  ) {
    super(message);
    this.name = "SpeechError";
  }

  toBody(): { error: { code: string; message: string; innererror?: { code: string } } } {
    const body: { error: { code: string; message: string; innererror?: { code: string } } } = {
      error: { code: this.code, message: this.message },
    };
    if (this.innerCode) body.error.innererror = { code: this.innerCode };
    return body;
  }
}

export const ErrorFactory = {
  missingApiVersion(): SpeechError {
    return new SpeechError(
      400,
      "BadRequest",
      "The api-version query parameter is required.",
      {},
      "MissingApiVersion",
    );
  },
  unsupportedApiVersion(version: string): SpeechError {
    return new SpeechError(
      400,
      "BadRequest",
      `The api-version '${version}' is not supported. The supported version is '2024-04-01'.`,
      {},
      "UnsupportedApiVersion",
    );
  },
  unauthorized(message?: string): SpeechError {
    // Same wording as the Cognitive Services gateway.
    return new SpeechError(
      401,
      "Unauthorized",
      message ??
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    );
  },
  /** `retryAfterSeconds` undefined: no Retry-After header (the docs never promise one). */
  tooManyRequests(retryAfterSeconds: number | undefined, message?: string): SpeechError {
    return new SpeechError(
      429,
      "TooManyRequests",
      message ??
        "There are too many recent requests. Each client application can submit up to 100 requests per 10 seconds for each Speech resource.",
      retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) },
    );
  },
  notFound(what: string): SpeechError {
    return new SpeechError(404, "NotFound", `The specified entity can't be found: ${what}.`);
  },
  routeNotFound(): SpeechError {
    return new SpeechError(404, "NotFound", "Resource not found.");
  },
  methodNotAllowed(method: string): SpeechError {
    return new SpeechError(405, "BadRequest", `The method '${method}' is not allowed on this resource.`);
  },
  invalidId(kind: "synthesis" | "operation", value: string): SpeechError {
    return new SpeechError(
      400,
      "BadRequest",
      `The ${kind} id '${value}' is invalid. It must be 3-64 characters long, contain only letters, digits, '-', '_' or '.', and start and end with a letter or digit.`,
      {},
      "InvalidId",
    );
  },
  inputsRequired(): SpeechError {
    return new SpeechError(400, "BadRequest", "The inputs is required.");
  },
  badRequest(message: string, innerCode?: string): SpeechError {
    return new SpeechError(400, "BadRequest", message, {}, innerCode);
  },
  badArgument(message: string, innerCode?: string): SpeechError {
    return new SpeechError(400, "BadArgument", message, {}, innerCode);
  },
  malformedJson(): SpeechError {
    return new SpeechError(400, "BadRequest", "The request body is not valid JSON.", {}, "InvalidJson");
  },
  /** A 400 that names the size (limits are among the documented 400 causes), or a gateway-style 413. */
  payloadTooLarge(limit: number, status: 400 | 413 = 400): SpeechError {
    return new SpeechError(
      status,
      status === 413 ? "RequestEntityTooLarge" : "BadRequest",
      `The request payload exceeds the maximum allowed size of ${limit} bytes.`,
      {},
      "PayloadTooLarge",
    );
  },
  tooManyInputs(limit: number): SpeechError {
    return new SpeechError(
      400,
      "BadRequest",
      `The number of inputs exceeds the limit of ${limit}.`,
      {},
      "TooManyInputs",
    );
  },
  unsupportedOutputFormat(format: string): SpeechError {
    return new SpeechError(
      400,
      "BadRequest",
      `The output format '${format}' is not supported.`,
      {},
      "InvalidOutputFormat",
    );
  },
  /** Status 409 or 400 (a setting); the code is the documented `BadRequest` either way. */
  idConflict(id: string, status: number): SpeechError {
    return new SpeechError(
      status,
      "BadRequest",
      `A batch synthesis with id '${id}' already exists and the request is not identical to the prior request.`,
      {},
      "SynthesisIdConflict",
    );
  },
  operationConflict(operationId: string): SpeechError {
    return new SpeechError(
      400,
      "BadRequest",
      `The Operation-Id '${operationId}' matches an existing operation and the request is not identical to the prior request.`,
      {},
      "OperationIdConflict",
    );
  },
  unsupportedMediaType(contentType: string): SpeechError {
    return new SpeechError(
      415,
      "UnsupportedMediaType",
      `The content type '${contentType}' is not supported.`,
    );
  },
  /** `sendRetryAfter` false (EMULATOR_RETRY_AFTER=off): no Retry-After header at all, as the docs promise none. */
  injected(status: number, retryAfterSeconds?: number, sendRetryAfter = true): SpeechError {
    const headers: Record<string, string> = {};
    if (retryAfterSeconds !== undefined && sendRetryAfter) headers["retry-after"] = String(retryAfterSeconds);
    if (status === 429)
      return ErrorFactory.tooManyRequests(sendRetryAfter ? (retryAfterSeconds ?? 1) : undefined);
    const code: SpeechErrorCode =
      status === 503
        ? "ServiceUnavailable"
        : status >= 500
          ? "InternalServerError"
          : status === 404
            ? "NotFound"
            : "BadRequest";
    return new SpeechError(status, code, `Injected fault (HTTP ${status}).`, headers, "EmulatorFault");
  },
  internal(): SpeechError {
    return new SpeechError(
      500,
      "InternalServerError",
      "An unexpected error occurred in the Speech emulator.",
    );
  },
};
