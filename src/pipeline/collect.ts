import { mapLimit } from "../concurrency.js";
import { type ClaimTiming, claimChapter, STORE_CLAIM_TIMING } from "./claims.js";
import type { CollectInput, JobRef } from "./contracts.js";
import type { PipelineDeps } from "./deps.js";
import { readJobSpec, readResultUrl } from "./jobs.js";
import { storeChapterOutputs } from "./outputs.js";
import { readRefusal } from "./payloadLimit.js";
import type { JobChapter } from "./planning/schema.js";
import { isCancelled, runEnded } from "./runGuard.js";
import type { ChapterOutcome, JobMode } from "./runState.js";
import type { ResultEntry } from "./speechPorts.js";
import { addOutcome, emptyTally, type JobTally } from "./tally.js";
import { recordThroughput } from "./throughput.js";

/** Chapters of one job stored at the same time (each streams its audio with ranged reads of the results zip). */
const COLLECT_CONCURRENCY = 4;

const ref = (input: JobRef): JobRef => ({
  projectId: input.projectId,
  runId: input.runId,
  jobNumber: input.jobNumber,
});

/**
 * A chapter that did not come out of a batch job: back into a later job while it has attempts left,
 * then to the realtime fallback once.
 */
export function unsuccessfulBatchOutcome(
  chapter: JobChapter,
  jobNumber: number,
  reason: string,
  maxAttempts: number,
  batchJobId: string | undefined,
): ChapterOutcome {
  const attempts = chapter.attempts + 1;
  return {
    chapterId: chapter.chapterId,
    jobNumber,
    status: attempts >= maxAttempts ? "realtime" : "retry",
    reason,
    attempts,
    mode: "batch",
    ...(batchJobId ? { batchJobId } : {}),
  };
}

/**
 * Collects a finished batch job: streams each succeeded input to its chapter's blobs and sends its video
 * message at once; failed inputs are scheduled for a later job. Idempotent: chapters with an outcome
 * already recorded are skipped, so a retried collection neither rewrites nor re-announces them.
 */
export async function collectJob(
  deps: PipelineDeps,
  input: CollectInput,
  claimTiming: ClaimTiming = STORE_CLAIM_TIMING,
): Promise<JobTally> {
  // Independent reads, made together: they stand between the poll that saw the job done and its first
  // chapter's video message. The result URL the poll recorded (if any) is read with them, needed or not.
  const [job, outcomes, ended, resultUrl] = await Promise.all([
    readJobSpec(deps, input),
    deps.runs.listOutcomes(input),
    runEnded(deps, input.projectId, input.runId),
    input.jobError ? undefined : readResultUrl(deps, input.synthesisId),
  ]);
  const ctx = { projectId: input.projectId, instanceId: input.instanceId, options: input.options };
  const mode: JobMode = "batch";
  const tally = emptyTally();
  const done = new Map(outcomes.map((o) => [o.chapterId, o]));
  const settle = async (outcome: ChapterOutcome) => {
    await deps.runs.writeOutcome(input, outcome);
    done.set(outcome.chapterId, outcome);
  };
  const tallyDone = () => {
    for (const outcome of done.values()) addOutcome(tally, outcome);
    return tally;
  };
  // A late copy (the run was cancelled, superseded or has completed) stores and announces nothing.
  if (ended) return tallyDone();
  // Advisory (a later run's first poll): a failed write must not fail the job's collection; it runs beside
  // the stores rather than in front of the first chapter's video message, and is awaited before returning.
  const recording =
    input.rate && !input.jobError && !input.firstChapterOnly
      ? recordThroughput(deps, { ...ref(input), rate: input.rate }, input.pilot ? "pilot" : "jobs").catch(
          () => false,
        )
      : undefined;
  try {
    const pending = job.chapters.filter((c) => !done.has(c.chapterId)).length;

    // Nothing left to store (a repeated collect, perhaps after the job was deleted): no results needed.
    if (!input.jobError && pending > 0) {
      // The URL the poll saw, when it recorded one: no read of the job before the download.
      const results = await deps.speech().batch.openResults(input.synthesisId, resultUrl);
      tally.speechRequests += results.speechRequests;
      try {
        const entries: ResultEntry[] = [];
        for await (const entry of results.entries()) entries.push(entry);
        // Each entry's bytes are a ranged read of the zip, made when it is stored (nothing is downloaded ahead).
        const storeEntry = async (entry: ResultEntry, runJustChecked = false) => {
          const chapter = job.chapters[entry.index - 1];
          if (!chapter || done.has(chapter.chapterId)) return;
          // A cancel mid-collect stops the stores (the rest stay without an outcome, as nothing more is due).
          // The first store follows the run's check above by a moment: it does not read it again.
          if (!runJustChecked && (await isCancelled(deps, input.projectId, input.runId))) return;
          if (entry.status !== "Succeeded") {
            const reason = entry.error ?? `Input ${entry.index} ${entry.status.toLowerCase()}.`;
            await settle(
              unsuccessfulBatchOutcome(
                chapter,
                input.jobNumber,
                reason,
                input.maxAttempts,
                input.synthesisId,
              ),
            );
            return;
          }
          // Another copy of this collect (at-least-once delivery) may be storing the same chapter right now.
          const claim = await claimChapter(
            deps,
            { ...ref(input), chapterId: chapter.chapterId },
            () => deps.runs.readOutcome(input, chapter.chapterId),
            claimTiming,
          );
          if (claim.kind === "done") {
            done.set(chapter.chapterId, claim.outcome);
            return;
          }
          try {
            const stored = await storeChapterOutputs(
              deps,
              { ...ctx, runId: input.runId },
              chapter,
              await entry.openAudio(),
              {
                ...(entry.durationInMilliseconds !== undefined
                  ? { durationMs: entry.durationInMilliseconds }
                  : {}),
                ...(entry.audioBytes !== undefined
                  ? { audioBytes: entry.audioBytes, reopenAudio: () => entry.openAudio() }
                  : {}),
                words: () => entry.readWordBoundaries(),
              },
            );
            await settle({
              chapterId: chapter.chapterId,
              jobNumber: input.jobNumber,
              status: "succeeded",
              attempts: chapter.attempts + 1,
              mode,
              batchJobId: input.synthesisId,
              audioBlob: stored.audioBlob,
              durationMs: stored.durationMs,
              sizeBytes: stored.sizeBytes,
              billableCharacters: chapter.billableCharacters,
            });
            await claim.release(false);
          } catch (error) {
            await claim.release(true);
            throw error;
          }
        };
        // The first chapter alone, then the rest a few at a time: its bytes do not share the connection and the
        // CPU with three others, so its video message goes out as soon as one chapter can be stored.
        const [head, ...rest] = entries;
        if (head) await storeEntry(head, true);
        if (!input.firstChapterOnly) await mapLimit(rest, COLLECT_CONCURRENCY, (entry) => storeEntry(entry));
      } finally {
        await results.close();
      }
    }
    // The first chapter alone: the others are neither stored nor settled (the collection proper does both).
    if (input.firstChapterOnly) return tallyDone();
    if (await isCancelled(deps, input.projectId, input.runId)) return tallyDone();
    const reason = input.jobError ?? "No result for this input in the job's results.";
    // A job refused as too large says nothing about its chapters: they go to smaller jobs, attempts unchanged.
    const refusal = input.jobError ? await readRefusal(deps, input) : undefined;
    const resplit = refusal !== undefined && refusal.chapters > 1;
    for (const chapter of job.chapters) {
      if (!done.has(chapter.chapterId)) {
        await settle(
          resplit
            ? {
                chapterId: chapter.chapterId,
                jobNumber: input.jobNumber,
                status: "retry",
                reason: `The job's request (${refusal.requestBytes} bytes) was too large for the service: split into smaller jobs.`,
                attempts: chapter.attempts,
                mode,
              }
            : unsuccessfulBatchOutcome(
                chapter,
                input.jobNumber,
                reason,
                input.maxAttempts,
                input.synthesisId,
              ),
        );
      }
    }
    return tallyDone();
  } finally {
    await recording;
  }
}
