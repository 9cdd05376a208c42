/**
 * A problem with the user's project that planning refuses (an invalid project.json or pronunciation list):
 * the HTTP adapters answer it as a bad request (400) with its code, message and details; anything else
 * thrown while planning is the server's.
 */
export class PlanError extends Error {
  override readonly name = "PlanError";
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
