import type { z } from "zod";
import { mapLimit } from "../concurrency.js";
import { jobSpecSchema, planSchema } from "./planning/schema.js";
import {
  type ChapterOutcome,
  cancelledMarkerSchema,
  chapterOutcomeSchema,
  deletedJobMarkerSchema,
  lexiconWindowSchema,
  payloadRefusalSchema,
  requestedChaptersSchema,
  resultsLinkSchema,
  runPaths,
  smallestRefusedSchema,
  submittedMarkerSchema,
  throughputRecordSchema,
} from "./runState.js";
import type { ReadWindow, RunStore } from "./runStore.js";

/**
 * The run store over named text records (blob names of runState.ts's `runPaths`): the one mapping from the
 * domain's run state to storage, shared by the Blob and the in-memory implementation, which differ only in
 * these primitives. Conditional semantics are those of Blob storage: `create` is `If-None-Match: *`,
 * `replace` and `remove` with an ETag are `If-Match`.
 */
export interface RecordVersion {
  etag: string;
  lastModified: Date;
}

export interface RecordEntry {
  name: string;
  createdOn: Date;
  lastModified: Date;
}

export interface RecordStore {
  /** Where the records live (a URL; its length sizes signed URLs in estimates). */
  readonly url: string;
  /** The record's text, or undefined when it does not exist. */
  read(name: string): Promise<string | undefined>;
  /** Writes (or overwrites) the record, unconditionally; JSON unless `contentType` says otherwise. */
  write(name: string, text: string, contentType?: string): Promise<void>;
  /** Writes the record only if it does not exist: its ETag, or undefined when it exists. */
  create(name: string, text: string): Promise<string | undefined>;
  /** Overwrites the record only if it is at `etag`: the new ETag, or undefined when it moved or is gone. */
  replace(name: string, text: string, etag: string): Promise<string | undefined>;
  version(name: string): Promise<RecordVersion | undefined>;
  exists(name: string): Promise<boolean>;
  /** Deletes the record (only if at `etag`, when given): false when it was not there or moved. */
  remove(name: string, etag?: string): Promise<boolean>;
  /** Every record whose name starts with `prefix`, in name order. */
  list(prefix: string): Promise<RecordEntry[]>;
  /** A read-only URL of the record, valid from `startsOn` to `expiresOn` (a SAS in Blob storage). */
  readUrl(name: string, window: ReadWindow): Promise<string>;
}

const SSML_TYPE = "application/ssml+xml; charset=utf-8";
const PLS_TYPE = "application/pls+xml; charset=utf-8";

/** Records read at once when a job's outcomes are listed. */
const READ_CONCURRENCY = 16;

export function runStoreOver(records: RecordStore): RunStore {
  async function read<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const text = await records.read(name);
    return text === undefined ? undefined : schema.parse(JSON.parse(text));
  }
  const write = (name: string, value: unknown) => records.write(name, JSON.stringify(value));
  const claimName = (c: { projectId: string; runId: string; jobNumber: number; chapterId: string }) =>
    runPaths.chapterClaim(c.projectId, c.runId, c.jobNumber, c.chapterId);
  const claimBody = (claimedAt: string) => JSON.stringify({ claimedAt });
  /** `{prefix}{name}.json` → name, for the records directly under a prefix. */
  const namesUnder = (prefix: string, entries: RecordEntry[]) =>
    entries.flatMap((entry) => {
      const rest = entry.name.slice(prefix.length);
      return rest.endsWith(".json") && !rest.includes("/") ? [{ key: rest.slice(0, -5), entry }] : [];
    });

  const windowOf = (raw: { startsOn: string; expiresOn: string }): ReadWindow => ({
    startsOn: new Date(raw.startsOn),
    expiresOn: new Date(raw.expiresOn),
  });

  return {
    url: records.url,
    readPlan: (run) => read(runPaths.plan(run.projectId, run.runId), planSchema),
    writePlan: (run, plan) => write(runPaths.plan(run.projectId, run.runId), plan),
    readJob: (job) => read(runPaths.job(job.projectId, job.runId, job.jobNumber), jobSpecSchema),
    writeJob: (run, job) => write(runPaths.job(run.projectId, run.runId, job.jobNumber), job),
    async listJobs(run) {
      const prefix = `${runPaths.root(run.projectId, run.runId)}jobs/`;
      return namesUnder(prefix, await records.list(prefix)).flatMap(({ key, entry }) => {
        const jobNumber = Number(key);
        return Number.isInteger(jobNumber) && jobNumber > 0
          ? [{ jobNumber, writtenAt: entry.createdOn }]
          : [];
      });
    },

    writeRequestedChapters: async (run, chapters) =>
      write(
        runPaths.requestedChapters(run.projectId, run.runId),
        requestedChaptersSchema.parse({ chapters }),
      ),
    async readRequestedChapters(run) {
      return (await read(runPaths.requestedChapters(run.projectId, run.runId), requestedChaptersSchema))
        ?.chapters;
    },
    writePlannedInput: (run, chapterId, ssml) =>
      records.write(runPaths.plannedInput(run.projectId, run.runId, chapterId), ssml, SSML_TYPE),
    readPlannedInput: (run, chapterId) =>
      records.read(runPaths.plannedInput(run.projectId, run.runId, chapterId)),
    writeLexicon: (run, pls) => records.write(runPaths.lexicon(run.projectId, run.runId), pls, PLS_TYPE),
    readLexicon: (run) => records.read(runPaths.lexicon(run.projectId, run.runId)),
    async fixLexiconWindow(run, submission, proposed) {
      const name = runPaths.lexiconWindow(run.projectId, run.runId, submission);
      const saved = await read(name, lexiconWindowSchema);
      if (saved) return windowOf(saved);
      const window = {
        startsOn: proposed.startsOn.toISOString(),
        expiresOn: proposed.expiresOn.toISOString(),
      };
      if (await records.create(name, JSON.stringify(window))) return windowOf(window);
      // Another copy of the submission fixed it first: sign what it signed.
      const other = await read(name, lexiconWindowSchema);
      if (!other) throw new Error(`The lexicon window ${name} was taken but cannot be read.`);
      return windowOf(other);
    },
    lexiconUrl: (run, window) => records.readUrl(runPaths.lexicon(run.projectId, run.runId), window),

    readOutcome: (job, chapterId) =>
      read(runPaths.outcome(job.projectId, job.runId, job.jobNumber, chapterId), chapterOutcomeSchema),
    writeOutcome: (job, outcome) =>
      write(runPaths.outcome(job.projectId, job.runId, job.jobNumber, outcome.chapterId), outcome),
    async listOutcomes(job) {
      const entries = await records.list(runPaths.outcomes(job.projectId, job.runId, job.jobNumber));
      const outcomes = await mapLimit(entries, READ_CONCURRENCY, (entry) =>
        read(entry.name, chapterOutcomeSchema),
      );
      return outcomes.filter((o): o is ChapterOutcome => o !== undefined);
    },
    async listStoredOutcomes(run) {
      const prefix = `${runPaths.root(run.projectId, run.runId)}outcomes/`;
      return (await records.list(prefix)).flatMap((entry) => {
        const [job, file, ...deeper] = entry.name.slice(prefix.length).split("/");
        const jobNumber = Number(job);
        if (!Number.isInteger(jobNumber) || jobNumber <= 0 || !file?.endsWith(".json") || deeper.length > 0)
          return [];
        return [{ jobNumber, chapterId: file.slice(0, -5), writtenAt: entry.lastModified }];
      });
    },

    markSubmitted: async (run, synthesisId, jobNumber) =>
      write(
        runPaths.submitted(run.projectId, run.runId, synthesisId),
        submittedMarkerSchema.parse({ synthesisId, jobNumber }),
      ),
    async listSubmitted(run) {
      const prefix = runPaths.submittedPrefix(run.projectId, run.runId);
      return namesUnder(prefix, await records.list(prefix)).map(({ key, entry }) => ({
        synthesisId: key,
        markedAt: entry.createdOn,
      }));
    },
    async clearSubmitted(run, synthesisId) {
      await records.remove(runPaths.submitted(run.projectId, run.runId, synthesisId));
    },

    markCancelled: (run, cancelledAt) => write(runPaths.cancelled(run.projectId, run.runId), { cancelledAt }),
    isCancelled: (run) => records.exists(runPaths.cancelled(run.projectId, run.runId)),
    async cancelledAt(run) {
      return (await read(runPaths.cancelled(run.projectId, run.runId), cancelledMarkerSchema))?.cancelledAt;
    },

    isAnnounced: (run, chapterId) => records.exists(runPaths.announced(run.projectId, run.runId, chapterId)),
    markAnnounced: (run, chapterId) => write(runPaths.announced(run.projectId, run.runId, chapterId), {}),

    markDeleted: async (marker) =>
      write(runPaths.deletedJob(marker.synthesisId), deletedJobMarkerSchema.parse(marker)),
    wasDeleted: (synthesisId) => records.exists(runPaths.deletedJob(synthesisId)),
    writeResultsLink: (link) => write(runPaths.resultsLink(link.synthesisId), link),
    readResultsLink: (synthesisId) => read(runPaths.resultsLink(synthesisId), resultsLinkSchema),
    async clearResultsLink(synthesisId) {
      await records.remove(runPaths.resultsLink(synthesisId));
    },

    readThroughput: (kind) => read(runPaths.throughput(kind), throughputRecordSchema),
    async readThroughputVersion(kind) {
      // The version first, then the text: a write in between moves the ETag, so the update built on the
      // newer text loses its If-Match and is retried (the other order could overwrite a write unseen).
      const version = await records.version(runPaths.throughput(kind));
      if (!version) return {};
      const record = await read(runPaths.throughput(kind), throughputRecordSchema).catch(() => undefined);
      return record ? { record, etag: version.etag } : { etag: version.etag };
    },
    async replaceThroughput(record, etag, kind) {
      const text = JSON.stringify(throughputRecordSchema.parse(record));
      const written =
        etag === undefined
          ? await records.create(runPaths.throughput(kind), text)
          : await records.replace(runPaths.throughput(kind), text, etag);
      return written !== undefined;
    },

    readRefusal: (job) =>
      read(runPaths.refusal(job.projectId, job.runId, job.jobNumber), payloadRefusalSchema),
    writeRefusal: (job, refusal) => write(runPaths.refusal(job.projectId, job.runId, job.jobNumber), refusal),
    async readSmallestRefused(run) {
      return (await read(runPaths.smallestRefused(run.projectId, run.runId), smallestRefusedSchema))
        ?.requestBytes;
    },
    writeSmallestRefused: (run, requestBytes) =>
      write(runPaths.smallestRefused(run.projectId, run.runId), { requestBytes }),

    createClaim: (claim, claimedAt) => records.create(claimName(claim), claimBody(claimedAt)),
    readClaim: (claim) => records.version(claimName(claim)),
    renewClaim: (claim, claimedAt, etag) => records.replace(claimName(claim), claimBody(claimedAt), etag),
    releaseClaim: (claim, etag) => records.remove(claimName(claim), etag),
  };
}
