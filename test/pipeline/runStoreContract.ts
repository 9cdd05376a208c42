import { describe, expect, it } from "vitest";
import type { JobSpec, Plan } from "../../src/pipeline/planning/schema.js";
import type { ChapterOutcome } from "../../src/pipeline/runState.js";
import type { RunStore } from "../../src/pipeline/runStore.js";
import { uniqueName } from "../support/names.js";

/**
 * What every RunStore must do, run against the Blob store on Azurite (runStore.blob.test.ts) and the
 * in-memory one (runStore.memory.test.ts), so the store unit tests use cannot drift from the deployed one.
 * `fresh()` gives an empty store (a new container for Blob: not created yet, as before a run's first write).
 */
export function runStoreContract(name: string, fresh: () => RunStore): void {
  const run = () => ({ projectId: uniqueName("p"), runId: "2026-01-01T00-00-00-000Z-ab12" });

  const plan = (r: { projectId: string; runId: string }): Plan => ({
    projectId: r.projectId,
    runId: r.runId,
    instanceId: `tts-${r.projectId}`,
    createdAt: "2026-01-01T00:00:00.000Z",
    options: {
      voice: "en-US-AvaMultilingualNeural",
      outputFormat: "audio-24khz-48kbitrate-mono-mp3",
      mode: "batch",
      maxChaptersPerJob: 2,
      maxConcurrentJobs: 1,
      wordBoundaries: true,
      force: false,
    },
    tuning: {
      maxChapterAttempts: 3,
      maxPayloadBytes: 500_000,
      realtimeConcurrency: 2,
      expectedCharsPerSecond: 100,
      pollMinMs: 1000,
      pollMaxMs: 60_000,
      jobTimeoutMs: 3_600_000,
    },
    chapters: [],
    ignored: [],
  });
  const job = (jobNumber: number, ids: string[]): JobSpec => ({
    jobNumber,
    mode: "batch",
    inputKind: "PlainText",
    chapters: ids.map((chapterId, index) => ({
      chapterId,
      index,
      sourceBlob: `p/${chapterId}.txt`,
      kind: "text",
      characters: 10,
      billableCharacters: 10,
      textSha256: "0".repeat(64),
      inputBytes: 10,
      attempts: 0,
    })),
  });
  const outcome = (
    jobNumber: number,
    chapterId: string,
    status: ChapterOutcome["status"],
  ): ChapterOutcome => ({
    chapterId,
    jobNumber,
    status,
    attempts: 1,
    mode: "batch",
    ...(status === "succeeded" ? { audioBlob: `p/${chapterId}.mp3`, durationMs: 1200 } : { reason: "x" }),
  });

  describe(`RunStore contract: ${name}`, () => {
    it("reads nothing from an empty store (no container yet): undefined, false, empty lists", async () => {
      const store = fresh();
      const r = run();
      const j = { ...r, jobNumber: 1 };
      expect(await store.readPlan(r)).toBeUndefined();
      expect(await store.readJob(j)).toBeUndefined();
      expect(await store.listJobs(r)).toEqual([]);
      expect(await store.readOutcome(j, "c1")).toBeUndefined();
      expect(await store.listOutcomes(j)).toEqual([]);
      expect(await store.listStoredOutcomes(r)).toEqual([]);
      expect(await store.listSubmitted(r)).toEqual([]);
      expect(await store.isCancelled(r)).toBe(false);
      expect(await store.cancelledAt(r)).toBeUndefined();
      expect(await store.isAnnounced(r, "c1")).toBe(false);
      expect(await store.wasDeleted("s1")).toBe(false);
      expect(await store.readResultsLink("s1")).toBeUndefined();
      expect(await store.readRefusal(j)).toBeUndefined();
      expect(await store.readSmallestRefused(r)).toBeUndefined();
      expect(await store.readClaim({ ...j, chapterId: "c1" })).toBeUndefined();
      // Clearing what is not there is fine (a repeated delete).
      await store.clearSubmitted(r, "s1");
      await store.clearResultsLink("s1");
    });

    it("keeps the plan and job lists; lists jobs by number with when they were written", async () => {
      const store = fresh();
      const r = run();
      await store.writePlan(r, plan(r));
      expect(await store.readPlan(r)).toEqual(plan(r));
      for (const n of [2, 1, 10]) await store.writeJob(r, job(n, [`c${n}`]));
      expect(await store.readJob({ ...r, jobNumber: 10 })).toEqual(job(10, ["c10"]));
      const listed = await store.listJobs(r);
      expect(listed.map((j) => j.jobNumber).sort((a, b) => a - b)).toEqual([1, 2, 10]);
      for (const j of listed) expect(j.writtenAt).toBeInstanceOf(Date);
      // Another run of the same project is apart.
      expect(await store.listJobs({ ...r, runId: "other" })).toEqual([]);
    });

    it("keeps outcomes per job; a rewrite replaces; the run's list names every job and chapter", async () => {
      const store = fresh();
      const r = run();
      await store.writeOutcome({ ...r, jobNumber: 1 }, outcome(1, "c1", "retry"));
      await store.writeOutcome({ ...r, jobNumber: 1 }, outcome(1, "c2", "succeeded"));
      await store.writeOutcome({ ...r, jobNumber: 2 }, outcome(2, "c1", "succeeded"));
      await store.writeOutcome({ ...r, jobNumber: 12 }, outcome(12, "c3", "failed"));
      await store.writeOutcome({ ...r, jobNumber: 1 }, outcome(1, "c1", "realtime"));
      expect(await store.readOutcome({ ...r, jobNumber: 1 }, "c1")).toEqual(outcome(1, "c1", "realtime"));
      const job1 = await store.listOutcomes({ ...r, jobNumber: 1 });
      expect(job1.sort((a, b) => a.chapterId.localeCompare(b.chapterId))).toEqual([
        outcome(1, "c1", "realtime"),
        outcome(1, "c2", "succeeded"),
      ]);
      // Job 1's prefix must not take job 12's outcomes.
      expect(await store.listOutcomes({ ...r, jobNumber: 12 })).toEqual([outcome(12, "c3", "failed")]);
      const all = await store.listStoredOutcomes(r);
      expect(all.map((o) => `${o.jobNumber}/${o.chapterId}`).sort()).toEqual([
        "1/c1",
        "1/c2",
        "12/c3",
        "2/c1",
      ]);
      for (const o of all) expect(o.writtenAt).toBeInstanceOf(Date);
    });

    it("keeps the markers: submitted (listed, cleared), cancelled, announced, deleted", async () => {
      const store = fresh();
      const r = run();
      await store.markSubmitted(r, "p-r-j1-a1", 1);
      await store.markSubmitted(r, "p-r-j2-a1", 2);
      expect((await store.listSubmitted(r)).map((s) => s.synthesisId)).toEqual(["p-r-j1-a1", "p-r-j2-a1"]);
      await store.clearSubmitted(r, "p-r-j1-a1");
      const left = await store.listSubmitted(r);
      expect(left.map((s) => s.synthesisId)).toEqual(["p-r-j2-a1"]);
      expect(left[0]?.markedAt).toBeInstanceOf(Date);

      await store.markCancelled(r, "2026-01-01T00:05:00.000Z");
      expect(await store.isCancelled(r)).toBe(true);
      expect(await store.cancelledAt(r)).toBe("2026-01-01T00:05:00.000Z");
      expect(await store.isCancelled({ ...r, runId: "other" })).toBe(false);

      await store.markAnnounced(r, "c1");
      expect(await store.isAnnounced(r, "c1")).toBe(true);
      expect(await store.isAnnounced(r, "c2")).toBe(false);

      await store.markDeleted({ synthesisId: "s9", ...r, deletedAt: "2026-01-01T00:06:00.000Z" });
      expect(await store.wasDeleted("s9")).toBe(true);
      expect(await store.wasDeleted("s8")).toBe(false);
    });

    it("keeps result links, the throughput record and payload refusals", async () => {
      const store = fresh();
      const r = run();
      const link = { synthesisId: uniqueName("s"), resultUrl: "https://x.test/r.zip?sig=1", seenAt: "t" };
      await store.writeResultsLink(link);
      expect(await store.readResultsLink(link.synthesisId)).toEqual(link);
      await store.clearResultsLink(link.synthesisId);
      expect(await store.readResultsLink(link.synthesisId)).toBeUndefined();

      const record = {
        rate: { low: 50, high: 80 },
        measuredAt: "2026-01-01T00:00:00.000Z",
        ...r,
        jobNumber: 1,
      };
      expect(await store.replaceThroughput(record, undefined)).toBe(true);
      expect(await store.readThroughput()).toEqual(record);

      const refusal = { jobNumber: 3, requestBytes: 900_000, chapters: 4, sent: true };
      await store.writeRefusal({ ...r, jobNumber: 3 }, refusal);
      expect(await store.readRefusal({ ...r, jobNumber: 3 })).toEqual(refusal);
      expect(await store.readRefusal({ ...r, jobNumber: 4 })).toBeUndefined();
      await store.writeSmallestRefused(r, 900_000);
      expect(await store.readSmallestRefused(r)).toBe(900_000);
    });

    it("updates the throughput record only at the version it read (If-Match), creates it only when absent", async () => {
      const store = fresh();
      const r = run();
      const record = (low: number) => ({
        rate: { low, high: low + 100 },
        measuredAt: "2026-01-01T00:00:00.000Z",
        since: "2026-01-01T00:00:00.000Z",
        ...r,
        jobNumber: 1,
      });
      expect(await store.readThroughputVersion()).toEqual({});
      expect(await store.replaceThroughput(record(10), '"stale"')).toBe(false);
      expect(await store.replaceThroughput(record(10), undefined)).toBe(true);
      expect(await store.replaceThroughput(record(15), undefined)).toBe(false);
      const read = await store.readThroughputVersion();
      expect(read.record).toEqual(record(10));
      expect(await store.replaceThroughput(record(20), read.etag)).toBe(true);
      // A second writer at the version the first replaced loses.
      expect(await store.replaceThroughput(record(30), read.etag)).toBe(false);
      expect(await store.readThroughput()).toEqual(record(20));
      // The pilots' record (planning/pilot.ts) is another record: neither kind's writes touch the other.
      expect(await store.readThroughputVersion("pilot")).toEqual({});
      expect(await store.replaceThroughput(record(5), read.etag, "pilot")).toBe(false);
      expect(await store.replaceThroughput(record(5), undefined, "pilot")).toBe(true);
      expect(await store.readThroughput("pilot")).toEqual(record(5));
      expect(await store.readThroughput()).toEqual(record(20));
    });

    it("keeps what planning saves beside the plan: requested chapters, planned inputs, the lexicon", async () => {
      const store = fresh();
      const r = run();
      expect(await store.readRequestedChapters(r)).toBeUndefined();
      expect(await store.readPlannedInput(r, "ch 1")).toBeUndefined();
      expect(await store.readLexicon(r)).toBeUndefined();
      await store.writeRequestedChapters(r, ["ch2", "ch7"]);
      await store.writePlannedInput(r, "ch 1", '<speak version="1.0">Ωmega</speak>');
      await store.writeLexicon(r, "<lexicon/>");
      expect(await store.readRequestedChapters(r)).toEqual(["ch2", "ch7"]);
      expect(await store.readPlannedInput(r, "ch 1")).toBe('<speak version="1.0">Ωmega</speak>');
      expect(await store.readPlannedInput(r, "ch 2")).toBeUndefined();
      expect(await store.readLexicon(r)).toBe("<lexicon/>");
      await expect(store.writeRequestedChapters(r, [])).rejects.toThrow();
    });

    it("fixes a submission's lexicon window on first use: retries (and racing copies) get the same", async () => {
      const store = fresh();
      const r = run();
      const first = {
        startsOn: new Date("2026-01-01T00:00:00Z"),
        expiresOn: new Date("2026-01-01T12:00:00Z"),
      };
      const later = {
        startsOn: new Date("2026-01-01T00:05:00Z"),
        expiresOn: new Date("2026-01-01T12:05:00Z"),
      };
      const [a, b] = await Promise.all([
        store.fixLexiconWindow(r, "job2-attempt1", first),
        store.fixLexiconWindow(r, "job2-attempt1", later),
      ]);
      expect(b).toEqual(a);
      expect(await store.fixLexiconWindow(r, "job2-attempt1", later)).toEqual(a);
      expect(await store.fixLexiconWindow(r, "job2-attempt2", later)).toEqual(later);
      await store.writeLexicon(r, "<lexicon/>");
      const url = new URL(await store.lexiconUrl(r, first));
      expect(url.href.startsWith(`${store.url}/${r.projectId}/${r.runId}/lexicon.pls?`)).toBe(true);
    });

    it("refuses run state that does not match its schema (zod at the boundary)", async () => {
      const store = fresh();
      const r = run();
      await expect(store.markSubmitted(r, "s1", 0)).rejects.toThrow();
      const marker = { synthesisId: "s2", projectId: r.projectId, deletedAt: "t" };
      await expect(store.markDeleted(marker as never)).rejects.toThrow();
      expect(await store.listSubmitted(r)).toEqual([]);
      expect(await store.wasDeleted("s2")).toBe(false);
    });

    it("claims are create-only: of two copies at once exactly one holds the claim", async () => {
      const store = fresh();
      const claim = { ...run(), jobNumber: 1, chapterId: "c1" };
      const results = await Promise.all([
        store.createClaim(claim, "2026-01-01T00:00:00.000Z"),
        store.createClaim(claim, "2026-01-01T00:00:00.000Z"),
      ]);
      expect(results.filter((etag) => etag !== undefined)).toHaveLength(1);
      expect(await store.createClaim(claim, "later")).toBeUndefined();
      const version = await store.readClaim(claim);
      expect(version?.etag).toBe(results.find((etag) => etag !== undefined));
      expect(version?.lastModified).toBeInstanceOf(Date);
    });

    it("renews and releases a claim only at its current ETag (If-Match)", async () => {
      const store = fresh();
      const claim = { ...run(), jobNumber: 2, chapterId: "c1" };
      const first = (await store.createClaim(claim, "a")) as string;
      const second = await store.renewClaim(claim, "b", first);
      expect(second).toBeDefined();
      expect(second).not.toBe(first);
      expect((await store.readClaim(claim))?.etag).toBe(second);
      // A stale ETag (another copy renewed or took it over) changes nothing.
      expect(await store.renewClaim(claim, "c", first)).toBeUndefined();
      expect(await store.releaseClaim(claim, first)).toBe(false);
      expect((await store.readClaim(claim))?.etag).toBe(second);
      // Of two takeovers at the same ETag, one wins.
      const takeovers = await Promise.all([
        store.renewClaim(claim, "d", second as string),
        store.renewClaim(claim, "e", second as string),
      ]);
      expect(takeovers.filter((etag) => etag !== undefined)).toHaveLength(1);
      const current = takeovers.find((etag) => etag !== undefined) as string;
      expect(await store.releaseClaim(claim, current)).toBe(true);
      expect(await store.readClaim(claim)).toBeUndefined();
      // Gone: a renewal finds nothing to renew, a release nothing to release, a new claim may be created.
      expect(await store.renewClaim(claim, "f", current)).toBeUndefined();
      expect(await store.releaseClaim(claim, current)).toBe(false);
      expect(await store.createClaim(claim, "g")).toBeDefined();
    });
  });
}
