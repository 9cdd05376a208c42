import { describe, expect, it } from "vitest";
import { baseRequestBytes } from "../../src/pipeline/batchRequest.js";
import { claimChapter } from "../../src/pipeline/claims.js";
import { checkJob, deleteJob, readResultUrl, submitJob } from "../../src/pipeline/jobs.js";
import { PayloadTooLargeError } from "../../src/pipeline/payloadLimit.js";
import { LEXICON_PLACEHOLDER_URI, LEXICON_SAS_HOURS } from "../../src/pipeline/planning/pronunciations.js";
import type { JobChapter, JobSpec } from "../../src/pipeline/planning/schema.js";
import { planRetries } from "../../src/pipeline/retries.js";
import type { ChapterOutcome } from "../../src/pipeline/runState.js";
import type { SpeechPorts, SynthesisState } from "../../src/pipeline/speechPorts.js";
import { readSynthesisInput } from "../../src/pipeline/synthesisInput.js";
import { makeSynthesisId } from "../../src/speech/ids.js";
import { memoryDeps } from "../support/memoryDeps.js";

/**
 * Use cases over run state with the in-memory RunStore: no Azurite, no Speech emulator (Speech is faked here,
 * recording what it was asked). The same cases against real storage and the emulator are in
 * activities.test.ts and activityHardening.test.ts; these pin the run-state decisions in a unit test.
 */
const run = { projectId: "book", runId: "2026-01-01T00-00-00-000Z-ab12" };
const options = {
  voice: "en-US-AvaMultilingualNeural",
  outputFormat: "audio-24khz-48kbitrate-mono-mp3",
  wordBoundaries: true,
};

function chapter(chapterId: string, attempts = 0): JobChapter {
  return {
    chapterId,
    index: Number(chapterId.slice(1)),
    sourceBlob: `book/${chapterId}.txt`,
    kind: "text",
    characters: 100,
    billableCharacters: 100,
    textSha256: "0".repeat(64),
    inputBytes: 100,
    attempts,
  };
}

function job(jobNumber: number, chapters: JobChapter[]): JobSpec {
  return { jobNumber, mode: "batch", inputKind: "PlainText", chapters };
}

function outcome(chapterId: string, status: ChapterOutcome["status"], attempts: number): ChapterOutcome {
  return { chapterId, jobNumber: 1, status, attempts, mode: "batch" };
}

/** Speech as a map of jobs; `calls` lists every create and delete in order. */
function fakeSpeech() {
  const calls: string[] = [];
  const jobs = new Map<string, SynthesisState>();
  const ports: SpeechPorts = {
    makeSynthesisId,
    batch: {
      async createSynthesis(id) {
        calls.push(`create ${id}`);
        const state: SynthesisState = { id, status: "NotStarted" };
        jobs.set(id, state);
        return state;
      },
      getSynthesis: async (id) => jobs.get(id),
      async deleteSynthesis(id) {
        calls.push(`delete ${id}`);
        jobs.delete(id);
      },
      openResults: async () => {
        throw new Error("not used here");
      },
    },
    realtime: {
      synthesizeLong: async () => {
        throw new Error("not used here");
      },
    },
  };
  return { ports, calls, jobs };
}

describe("PlanRetries over the run store", () => {
  it("turns a job's retry outcomes into new batch jobs and its realtime ones into a group, stored as job lists", async () => {
    const deps = memoryDeps();
    await deps.runs.writeJob(run, job(1, [chapter("c1"), chapter("c2"), chapter("c3"), chapter("c4")]));
    for (const o of [
      outcome("c1", "succeeded", 1),
      outcome("c2", "retry", 1),
      outcome("c3", "retry", 2),
      outcome("c4", "realtime", 3),
    ])
      await deps.runs.writeOutcome({ ...run, jobNumber: 1 }, o);

    const input = {
      ...run,
      jobNumber: 1,
      nextJobNumber: 5,
      options: { ...options, maxChaptersPerJob: 1 },
      maxPayloadBytes: 500_000,
    };
    const jobs = await planRetries(deps, input);
    expect(jobs.map((j) => [j.jobNumber, j.mode, j.chapters])).toEqual([
      [5, "batch", 1],
      [6, "batch", 1],
      [7, "realtime", 1],
    ]);
    const stored = await Promise.all([5, 6, 7].map((n) => deps.runs.readJob({ ...run, jobNumber: n })));
    expect(stored.map((j) => j?.chapters.map((c) => [c.chapterId, c.attempts]))).toEqual([
      [["c2", 1]],
      [["c3", 2]],
      [["c4", 3]],
    ]);
    // Deterministic: a retried call rewrites the same job lists.
    expect(await planRetries(deps, input)).toEqual(jobs);
    expect((await deps.runs.listJobs(run)).map((j) => j.jobNumber).sort()).toEqual([1, 5, 6, 7]);
  });

  it("packs retried chapters under half the smallest request the service refused", async () => {
    const deps = memoryDeps();
    await deps.runs.writeJob(run, job(1, [chapter("c1"), chapter("c2"), chapter("c3")]));
    for (const id of ["c1", "c2", "c3"])
      await deps.runs.writeOutcome({ ...run, jobNumber: 1 }, outcome(id, "retry", 0));
    const input = {
      ...run,
      jobNumber: 1,
      nextJobNumber: 2,
      options: { ...options, maxChaptersPerJob: 10 },
      maxPayloadBytes: 500_000,
    };
    expect((await planRetries(deps, input)).map((j) => j.chapters)).toEqual([3]);
    // Half the refused request holds one chapter's input (100 bytes) but not two.
    const base = baseRequestBytes("PlainText", options.voice, options.outputFormat, options.wordBoundaries);
    await deps.runs.writeSmallestRefused(run, 2 * (base + 150));
    expect((await planRetries(deps, input)).map((j) => j.chapters)).toEqual([1, 1, 1]);
  });
});

describe("Batch job activities over the run store", () => {
  const ref = { ...run, jobNumber: 1, attempt: 1, options };

  it("submits nothing for a cancelled run", async () => {
    const speech = fakeSpeech();
    const deps = memoryDeps({ speech: speech.ports });
    await deps.runs.markCancelled(run, "2026-01-01T00:01:00.000Z");
    expect(await submitJob(deps, ref)).toEqual({ submitted: false, reason: "cancelled" });
    expect(speech.calls).toEqual([]);
  });

  it("does not send a job the service already refused as too large", async () => {
    const speech = fakeSpeech();
    const deps = memoryDeps({ speech: speech.ports });
    await deps.runs.writeRefusal(ref, { jobNumber: 1, requestBytes: 900_000, chapters: 3, sent: true });
    await expect(submitJob(deps, ref)).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(speech.calls).toEqual([]);
  });

  it("records a succeeded job's result link out of the check's result, and a deleted job stays finished", async () => {
    const speech = fakeSpeech();
    const deps = memoryDeps({ speech: speech.ports, now: () => new Date("2026-01-01T00:02:00.000Z") });
    const synthesisId = makeSynthesisId(ref);
    await deps.runs.markSubmitted(run, synthesisId, 1);
    const resultUrl = "https://results.test/r.zip?sig=secret";
    speech.jobs.set(synthesisId, { id: synthesisId, status: "Succeeded", resultUrl });

    const checked = await checkJob(deps, { synthesisId });
    expect(checked).toEqual({ status: "Succeeded" });
    expect(JSON.stringify(checked)).not.toContain("sig=");
    expect(await readResultUrl(deps, synthesisId)).toBe(resultUrl);

    await deleteJob(deps, { ...run, synthesisId });
    expect(speech.calls).toEqual([`delete ${synthesisId}`]);
    expect(await deps.runs.wasDeleted(synthesisId)).toBe(true);
    expect(await deps.runs.listSubmitted(run)).toEqual([]);
    expect(await readResultUrl(deps, synthesisId)).toBeUndefined();
    // Redelivered afterwards: the check reads Succeeded (not Missing), the submit creates nothing.
    expect(await checkJob(deps, { synthesisId })).toEqual({ status: "Succeeded" });
    expect(await submitJob(deps, ref)).toEqual({ submitted: true, synthesisId, status: "Succeeded" });
    expect(speech.calls).toEqual([`delete ${synthesisId}`]);
    // A job the service lost, that we never deleted, is Missing.
    expect(await checkJob(deps, { synthesisId: makeSynthesisId({ ...ref, jobNumber: 2 }) })).toEqual({
      status: "Missing",
    });
  });
});

describe("Chapter claims over the run store", () => {
  const claim = { ...run, jobNumber: 1, chapterId: "c1" };
  const timing = { leaseMs: 1_000, renewMs: 60_000, pollMs: 5 };

  it("one copy holds a chapter; another waits for its outcome and takes no claim", async () => {
    const deps = memoryDeps();
    const first = await claimChapter(deps, claim, async () => undefined, timing);
    expect(first.kind).toBe("claimed");
    let finished: ChapterOutcome | undefined;
    const second = claimChapter(deps, claim, async () => finished, timing);
    finished = outcome("c1", "succeeded", 1);
    expect(await second).toEqual({ kind: "done", outcome: finished });
    if (first.kind === "claimed") await first.release(false);
  });

  it("a claim nobody renews is taken over after its lease, by one copy only; a given-back claim at once", async () => {
    let clock = Date.parse("2026-01-01T00:00:00.000Z");
    const deps = memoryDeps({ now: () => new Date(clock) });
    const holder = await claimChapter(deps, claim, async () => undefined, timing);
    expect(holder.kind).toBe("claimed");
    // The holder dies (never renews, never releases); two copies wait while its lease holds.
    let finished: ChapterOutcome | undefined;
    const copies = [1, 2].map(() => claimChapter(deps, claim, async () => finished, timing));
    clock += timing.leaseMs + 1;
    const winner = await Promise.race(copies);
    expect(winner.kind).toBe("claimed");
    // The other finds the winner's fresh claim and waits, until the winner's outcome is there.
    finished = outcome("c1", "succeeded", 1);
    expect((await Promise.all(copies)).map((c) => c.kind).sort()).toEqual(["claimed", "done"]);
    // Given back (its storing failed): the next copy claims at once, no lease to wait out.
    if (winner.kind === "claimed") await winner.release(true);
    expect(await deps.runs.readClaim(claim)).toBeUndefined();
    const next = await claimChapter(deps, claim, async () => undefined, timing);
    expect(next.kind).toBe("claimed");
    if (next.kind === "claimed") await next.release(true);
  });
});

describe("a job's exact input from what planning saved (planned SSML, lexicon snapshot)", () => {
  const lexicon = `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Tingen</grapheme><phoneme>ˈtɪŋən</phoneme></lexeme>
</lexicon>`;
  const planned = `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US"><voice name="en-US-AvaMultilingualNeural"><lexicon uri="${LEXICON_PLACEHOLDER_URI}"/>He walked to Tingen.</voice></speak>`;
  const ssmlChapter = { ...chapter("c1"), kind: "ssml" as const, inputBlob: "book/r/inputs/c1.ssml" };

  it("batch: the placeholder becomes the lexicon URL, its window fixed by the first submit of a submission", async () => {
    let now = new Date("2026-01-01T10:00:00.400Z");
    const deps = memoryDeps({ now: () => now });
    await deps.runs.writePlannedInput(run, "c1", planned);
    await deps.runs.writeLexicon(run, lexicon);
    const ref = { ...run, submission: "job1-attempt1" };
    const first = await readSynthesisInput(deps, ref, ssmlChapter, "batch");
    expect(first).not.toContain(LEXICON_PLACEHOLDER_URI);
    const url = /<lexicon uri="([^"]+)"/.exec(first)?.[1]?.replaceAll("&amp;", "&") ?? "";
    // Whole seconds, five minutes of skew before, LEXICON_SAS_HOURS after.
    expect(url).toBe(
      `memory://run-store/${run.projectId}/${run.runId}/lexicon.pls?st=2026-01-01T09:55:00.000Z&se=${new Date(Date.parse("2026-01-01T10:00:00Z") + LEXICON_SAS_HOURS * 3_600_000).toISOString()}`,
    );
    // A retried submit runs later and signs the same; a new attempt gets its own window.
    now = new Date("2026-01-01T10:07:00Z");
    expect(await readSynthesisInput(deps, ref, ssmlChapter, "batch")).toBe(first);
    const next = await readSynthesisInput(
      deps,
      { ...ref, submission: "job1-attempt2" },
      ssmlChapter,
      "batch",
    );
    expect(next).toContain("st=2026-01-01T10:02:00.000Z");
  });

  it("realtime: no lexicon element, its terms inlined; a missing snapshot is an error, not a silent skip", async () => {
    const deps = memoryDeps();
    await deps.runs.writePlannedInput(run, "c1", planned);
    const ref = { ...run, submission: "rt" };
    await expect(readSynthesisInput(deps, ref, ssmlChapter, "realtime")).rejects.toThrow(/lexicon snapshot/);
    await deps.runs.writeLexicon(run, lexicon);
    const realtime = await readSynthesisInput(deps, ref, ssmlChapter, "realtime");
    expect(realtime).not.toContain("<lexicon");
    expect(realtime).toContain('<phoneme alphabet="ipa" ph="ˈtɪŋən">Tingen</phoneme>');
  });
});
