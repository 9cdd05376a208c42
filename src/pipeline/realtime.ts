import { type ClaimTiming, claimChapter, REALTIME_CLAIM_TIMING } from "./claims.js";
import type { RealtimeChapterInput } from "./contracts.js";
import type { PipelineDeps } from "./deps.js";
import { readJobSpec } from "./jobs.js";
import { storeChapterOutputs } from "./outputs.js";
import type { JobChapter } from "./planning/schema.js";
import { runEnded } from "./runGuard.js";
import type { ChapterOutcome } from "./runState.js";
import { type RealtimeBilled, RealtimeSynthesisFailure } from "./speechPorts.js";
import { approximateWordBoundaries, ssmlToPlainText } from "./srt.js";
import { ChapterInputError, readSynthesisInput } from "./synthesisInput.js";
import { addOutcome, emptyTally, type JobTally } from "./tally.js";

/**
 * Synthesizes one chapter through the realtime endpoint (long chapters are split and joined by the
 * client) and stores the same outputs a batch job gives. A failure is final for the chapter: realtime is
 * the fallback of last resort, and the client already retried transient errors; its outcome keeps what Speech
 * billed before the failure. Storage errors around it (job, claim, outcome write) throw, so the orchestrator's
 * retry policy runs the chapter again, re-sending its requests (a known cost, docs/pipeline.md).
 */
export async function synthesizeChapterRealtime(
  deps: PipelineDeps,
  input: RealtimeChapterInput,
  options: {
    claimTiming?: ClaimTiming;
    /** Sees the chapter's outcome (for the observability events), also when a re-run finds it saved. */
    onOutcome?: (outcome: ChapterOutcome) => void;
  } = {},
): Promise<JobTally> {
  const job = await readJobSpec(deps, input);
  const chapter = job.chapters[input.position];
  if (!chapter) throw new RangeError(`Job ${input.jobNumber} has no chapter at position ${input.position}.`);
  const previous = await deps.runs.readOutcome(input, chapter.chapterId);
  const { claimTiming = REALTIME_CLAIM_TIMING, onOutcome } = options;
  if (previous) {
    onOutcome?.(previous);
    return addOutcome(emptyTally(), previous);
  }
  // A late copy (the run was cancelled, superseded or has completed) pays for and stores nothing.
  if (await runEnded(deps, input.projectId, input.runId)) return emptyTally();
  const claim = await claimChapter(
    deps,
    {
      projectId: input.projectId,
      runId: input.runId,
      jobNumber: input.jobNumber,
      chapterId: chapter.chapterId,
    },
    () => deps.runs.readOutcome(input, chapter.chapterId),
    claimTiming,
  );
  if (claim.kind === "done") {
    onOutcome?.(claim.outcome);
    return addOutcome(emptyTally(), claim.outcome);
  }
  try {
    const tally = await synthesizeClaimed(deps, input, chapter, onOutcome);
    await claim.release(false);
    return tally;
  } catch (error) {
    // Storage failed (Speech failures are outcomes): give the claim back, so the retry need not wait a lease.
    await claim.release(true);
    throw error;
  }
}

async function synthesizeClaimed(
  deps: PipelineDeps,
  input: RealtimeChapterInput,
  chapter: JobChapter,
  onOutcome: ((outcome: ChapterOutcome) => void) | undefined,
): Promise<JobTally> {
  const base = {
    chapterId: chapter.chapterId,
    jobNumber: input.jobNumber,
    attempts: chapter.attempts + 1,
    mode: "realtime" as const,
  };
  let outcome: ChapterOutcome;
  // What Speech billed, once known: a failed chapter reports it too (totals and cost count what was paid).
  let billed: RealtimeBilled | undefined;
  let sentToSpeech = false;
  try {
    // Pronunciations (issue 14): the planned SSML input when the chapter uses listed terms.
    const text = await readSynthesisInput(
      deps,
      { projectId: input.projectId, runId: input.runId, submission: `realtime${input.jobNumber}` },
      chapter,
      "realtime",
    );
    sentToSpeech = true;
    const result = await deps.speech().realtime.synthesizeLong({
      ...(chapter.kind === "ssml" ? { ssml: text } : { text }),
      voice: input.options.voice,
      outputFormat: input.options.outputFormat,
    });
    billed = { requests: result.requests, characters: result.characters };
    const spoken = chapter.kind === "ssml" ? ssmlToPlainText(text) : text;
    const stored = await storeChapterOutputs(
      deps,
      {
        projectId: input.projectId,
        instanceId: input.instanceId,
        options: input.options,
        runId: input.runId,
      },
      chapter,
      result.audio,
      {
        durationMs: result.durationMs,
        words: async () => approximateWordBoundaries(spoken, result.durationMs),
      },
    );
    outcome = {
      ...base,
      status: "succeeded",
      audioBlob: stored.audioBlob,
      durationMs: stored.durationMs,
      sizeBytes: stored.sizeBytes,
      billableCharacters: result.characters,
      speechRequests: result.requests,
    };
  } catch (error) {
    // Nothing paid yet and the input may be readable on another try (a storage error): the activity is
    // retried. Once Speech was called, a failure is the chapter's outcome (a retry would pay again).
    if (!sentToSpeech && !(error instanceof ChapterInputError)) throw error;
    if (error instanceof RealtimeSynthesisFailure) billed = error.billed;
    outcome = {
      ...base,
      status: "failed",
      reason: error instanceof Error ? error.message : String(error),
      ...(billed ? { billableCharacters: billed.characters, speechRequests: billed.requests } : {}),
    };
  }
  await deps.runs.writeOutcome(input, outcome);
  onOutcome?.(outcome);
  return addOutcome(emptyTally(), outcome);
}
