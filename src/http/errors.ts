import type { HttpResponseInit } from "@azure/functions";
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
