import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { z } from "zod";
import { PROJECT_ID_PATTERN, projectIdSchema } from "../pipeline/options.js";
import { PlanError } from "../pipeline/planning/planError.js";

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

/**
 * A request the API refuses (a 4xx with the contract's error body): thrown where the request is read,
 * answered by {@link guarded}, so each handler does not repeat the check-and-return.
 */
export class RequestProblem extends Error {
  override readonly name = "RequestProblem";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * The response to a refusal: a {@link RequestProblem} as it says, a {@link PlanError} (the user's project:
 * an invalid project.json or pronunciation list) as 400 with its code; undefined for anything else.
 */
export function refusalResponse(error: unknown): HttpResponseInit | undefined {
  if (error instanceof RequestProblem)
    return errorResponse(error.status, error.code, error.message, error.details);
  if (error instanceof PlanError) return errorResponse(400, error.code, error.message, error.details);
  return undefined;
}

/** The route's project id; a {@link RequestProblem} (400 `invalid-project-id`) when it is not one. */
export function projectIdOf(request: HttpRequest): string {
  const parsed = projectIdSchema.safeParse(request.params["projectId"] ?? "");
  if (parsed.success) return parsed.data;
  throw new RequestProblem(
    400,
    "invalid-project-id",
    "The project id must be 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
    { pattern: PROJECT_ID_PATTERN.source },
  );
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
 * Wraps an HTTP handler: a refusal ({@link refusalResponse}) is answered as such; an unexpected error
 * becomes the contract's error shape (500) and a log line with the message only (never a request body or
 * a setting).
 */
export function guarded(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (error) {
      const refused = refusalResponse(error);
      if (refused) return refused;
      context.error(`Unhandled error: ${error instanceof Error ? error.message : String(error)}`);
      return errorResponse(500, "internal-error", "The request could not be completed.");
    }
  };
}
