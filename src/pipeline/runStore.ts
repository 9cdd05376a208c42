import type { JobRef } from "./contracts.js";
import type { JobSpec, Plan } from "./planning/schema.js";
import type {
  ChapterOutcome,
  DeletedJobMarker,
  PayloadRefusal,
  ResultsLink,
  ThroughputKind,
  ThroughputRecord,
} from "./runState.js";

/**
 * The run state port: everything a run keeps between activities (the plan, job lists, chapter outcomes, the
 * markers that make activities idempotent, claims), named for what it is rather than where it lives. Use
 * cases get it as `deps.runs` and never see a blob path or a storage client. Two implementations behind one
 * mapping (runStoreRecords.ts): Blob storage (blobRecords.ts, the deployed one: the blob layout documented in
 * runState.ts and CONTRACT §2 is unchanged) and memory (memoryRecords.ts, for unit tests of use cases). The
 * contract test (test/pipeline/runStore.contract.test.ts) runs the same cases against both.
 */

export interface RunRef {
  projectId: string;
  runId: string;
}

/** One job of one run: the activity contracts' definition. */
export type { JobRef };

/** One chapter's claim within a job (claims.ts). */
export interface ClaimRef extends JobRef {
  chapterId: string;
}

/** The version of a stored claim: its ETag (for `If-Match`) and the store's own time of its last write. */
export interface ClaimVersion {
  etag: string;
  lastModified: Date;
}

/** A job list that exists, and when it was written (the store's clock). */
export interface StoredJob {
  jobNumber: number;
  writtenAt: Date;
}

/** A chapter outcome that exists, and when it was written (the store's clock). */
export interface StoredOutcome {
  jobNumber: number;
  chapterId: string;
  writtenAt: Date;
}

/** A batch job recorded as possibly created at the service, and when it was recorded. */
export interface StoredSubmission {
  synthesisId: string;
  markedAt: Date;
}

/** When a read URL is valid: fixed by the caller, so a retry signs the same URL. */
export interface ReadWindow {
  startsOn: Date;
  expiresOn: Date;
}

export interface RunStore {
  /** Where the records live (the work container's URL): the estimate sizes a lexicon URL from it. */
  readonly url: string;

  // Plan and job lists (written by planning and retry planning; job lists never change once written).
  readPlan(run: RunRef): Promise<Plan | undefined>;
  writePlan(run: RunRef, plan: Plan): Promise<void>;
  readJob(job: JobRef): Promise<JobSpec | undefined>;
  writeJob(run: RunRef, job: JobSpec): Promise<void>;
  listJobs(run: RunRef): Promise<StoredJob[]>;

  // What planning keeps for the jobs beside the plan: the start's chapter subset (too long for the
  // orchestration input), the SSML of chapters that use pronunciations, the project's lexicon as it was.
  writeRequestedChapters(run: RunRef, chapters: string[]): Promise<void>;
  readRequestedChapters(run: RunRef): Promise<string[] | undefined>;
  writePlannedInput(run: RunRef, chapterId: string, ssml: string): Promise<void>;
  readPlannedInput(run: RunRef, chapterId: string): Promise<string | undefined>;
  writeLexicon(run: RunRef, pls: string): Promise<void>;
  readLexicon(run: RunRef): Promise<string | undefined>;
  /** The read window of one submission's lexicon URL: the first proposed is kept, so its retries sign the same. */
  fixLexiconWindow(run: RunRef, submission: string, proposed: ReadWindow): Promise<ReadWindow>;
  /** A read-only URL of the run's lexicon snapshot, valid in `window`, for Speech to fetch anonymously. */
  lexiconUrl(run: RunRef, window: ReadWindow): Promise<string>;

  // What happened to each chapter of a job.
  readOutcome(job: JobRef, chapterId: string): Promise<ChapterOutcome | undefined>;
  writeOutcome(job: JobRef, outcome: ChapterOutcome): Promise<void>;
  /** The job's outcomes (unreadable ones left out), in no particular order. */
  listOutcomes(job: JobRef): Promise<ChapterOutcome[]>;
  /** Every outcome of the run, without reading them: which jobs have outcomes, and when they were written. */
  listStoredOutcomes(run: RunRef): Promise<StoredOutcome[]>;

  // Batch jobs that may exist at the service (cancel deletes them; removed once the job is deleted).
  markSubmitted(run: RunRef, synthesisId: string, jobNumber: number): Promise<void>;
  listSubmitted(run: RunRef): Promise<StoredSubmission[]>;
  clearSubmitted(run: RunRef, synthesisId: string): Promise<void>;

  // Cancel: no new batch job is submitted, nothing more is stored or announced.
  markCancelled(run: RunRef, cancelledAt: string): Promise<void>;
  isCancelled(run: RunRef): Promise<boolean>;
  /** When the run was cancelled (undefined when it was not, or the marker does not say). */
  cancelledAt(run: RunRef): Promise<string | undefined>;

  // A chapter's video message was sent (not sent again after a crash).
  isAnnounced(run: RunRef, chapterId: string): Promise<boolean>;
  markAnnounced(run: RunRef, chapterId: string): Promise<void>;

  // Keyed by the globally unique synthesis id (all a status check carries).
  markDeleted(marker: DeletedJobMarker): Promise<void>;
  wasDeleted(synthesisId: string): Promise<boolean>;
  writeResultsLink(link: ResultsLink): Promise<void>;
  readResultsLink(synthesisId: string): Promise<ResultsLink | undefined>;
  clearResultsLink(synthesisId: string): Promise<void>;

  // The service's throughput as measuring runs saw it (one record per kind for the deployment).
  readThroughput(kind?: ThroughputKind): Promise<ThroughputRecord | undefined>;
  /**
   * The record with its version, for a conditional update: `etag` undefined when there is none; `record`
   * undefined when there is none or it is unreadable (then it is replaced, never an error).
   */
  readThroughputVersion(kind?: ThroughputKind): Promise<{ record?: ThroughputRecord; etag?: string }>;
  /** Writes the record only if it is still at `etag` (undefined: only if there is none); false when it moved. */
  replaceThroughput(
    record: ThroughputRecord,
    etag: string | undefined,
    kind?: ThroughputKind,
  ): Promise<boolean>;

  // Payload-size refusals (payloadLimit.ts).
  readRefusal(job: JobRef): Promise<PayloadRefusal | undefined>;
  writeRefusal(job: JobRef, refusal: PayloadRefusal): Promise<void>;
  readSmallestRefused(run: RunRef): Promise<number | undefined>;
  writeSmallestRefused(run: RunRef, requestBytes: number): Promise<void>;

  // Claims (claims.ts): conditional writes, so exactly one copy of an activity holds a chapter.
  /** Creates the claim only if none exists (`If-None-Match: *`): its ETag, or undefined when it is held. */
  createClaim(claim: ClaimRef, claimedAt: string): Promise<string | undefined>;
  /** The claim's version, or undefined when there is none. */
  readClaim(claim: ClaimRef): Promise<ClaimVersion | undefined>;
  /** Rewrites the claim only if it is still at `etag` (`If-Match`): the new ETag, or undefined when it moved or is gone. */
  renewClaim(claim: ClaimRef, claimedAt: string, etag: string): Promise<string | undefined>;
  /** Deletes the claim only if it is still at `etag`: false when it moved or is gone. */
  releaseClaim(claim: ClaimRef, etag: string): Promise<boolean>;
}
