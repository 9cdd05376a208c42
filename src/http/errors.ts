import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { z } from "zod";

/** The CONTRACT's error body: `{ error: { code, message, details? } }`. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  details?: unknown,
): HttpResponseInit {
  return {
    status,
    jsonBody: { error: { code, message, ...(details !== undefined ? { details } : {}) } },
  };
}

/** zod issues as `{ path, message }`, with unknown fields named. */
export function issueDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.join(".") || "(body)",
    message:
      issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : issue.message,
  }));
}

/**
 * Wraps an HTTP handler so an unexpected error becomes the contract's error shape (500) and a log line
 * with the message only (never a request body or a setting).
 */
export function guarded(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (error) {
      context.error(`Unhandled error: ${error instanceof Error ? error.message : String(error)}`);
      return errorResponse(500, "internal-error", "The request could not be completed.");
    }
  };
}
