/**
 * Progress of a run as `customStatus` (and the GET status endpoint): counters only, so it stays far
 * under the 16 KB limit for any book.
 */
export type Phase = "planning" | "synthesizing" | "finalizing" | "completed" | "cancelled";

export interface ChapterCounters {
  total: number;
  succeeded: number;
  failed: number;
  rejected: number;
  unchanged: number;
  pending: number;
}

export interface JobCounters {
  submitted: number;
  running: number;
  succeeded: number;
  failed: number;
}

export interface Progress {
  phase: Phase;
  runId: string;
  mode?: "batch" | "realtime";
  chapters: ChapterCounters;
  jobs: JobCounters;
  /** Realtime groups (realtime mode and the fallback): in flight and finished. */
  realtime: { running: number; completed: number };
  manifestBlob: string;
  startedAt: string;
  updatedAt: string;
}

export function emptyChapterCounters(): ChapterCounters {
  return { total: 0, succeeded: 0, failed: 0, rejected: 0, unchanged: 0, pending: 0 };
}

export function emptyJobCounters(): JobCounters {
  return { submitted: 0, running: 0, succeeded: 0, failed: 0 };
}

/** Recomputes `pending` from the other counters (never negative). */
export function withPending(c: ChapterCounters): ChapterCounters {
  return { ...c, pending: Math.max(0, c.total - c.succeeded - c.failed - c.rejected - c.unchanged) };
}
