/** Pure (no I/O): shared by the collecting activities and the deterministic orchestrators. */

/** Counts a job's collection reports to the orchestrator. */
export interface JobTally {
  succeeded: number;
  /** Given up for good (after the realtime fallback). */
  failed: number;
  /** Going to a later batch job. */
  retry: number;
  /** Going to the realtime fallback. */
  realtime: number;
  audioDurationMs: number;
  billableCharacters: number;
  speechRequests: number;
}

export function emptyTally(): JobTally {
  return {
    succeeded: 0,
    failed: 0,
    retry: 0,
    realtime: 0,
    audioDurationMs: 0,
    billableCharacters: 0,
    speechRequests: 0,
  };
}
