import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { currentRun, summarize } from "../../src/dashboard/projects.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { type Manifest, manifestSchema } from "../../src/pipeline/manifest.js";

/**
 * Which run the dashboard shows. A new run is Pending (no custom status yet) for a moment after its start,
 * while the manifest still holds the last run: the project list then showed the LAST run (its id, chapters,
 * billing and start time) under the new run's Pending status; the run view already took the id from the input.
 */
const PRICE = 15;
/** summarize reads only the price from its deps. */
const deps = { settings: { PRICE_PER_MILLION_CHARACTERS: PRICE } } as unknown as PipelineDeps;

const lastRun: Manifest = manifestSchema.parse({
  projectId: "book",
  instanceId: "tts-book",
  runId: "r-last",
  voice: "en-US-AvaMultilingualNeural",
  outputFormat: "audio-24khz-96kbitrate-mono-mp3",
  mode: "batch",
  wordBoundaries: true,
  status: "completed",
  chapters: [],
  ignored: [],
  mergedJobs: [1],
  totals: {
    chapters: 3,
    succeeded: 3,
    failed: 0,
    rejected: 0,
    unchanged: 0,
    pending: 0,
    billableCharacters: 120_000,
    audioDurationMs: 600_000,
    batchJobs: 1,
    speechRequests: 1,
    startedAt: "2026-11-30T08:00:00.000Z",
    completedAt: "2026-11-30T08:10:00.000Z",
  },
});

/** What `getStatus(instanceId, { showInput: true })` answers for a run started but not yet picked up. */
const pendingNewRun = {
  name: "ProjectOrchestrator",
  instanceId: "tts-book",
  runtimeStatus: "Pending",
  customStatus: null,
  input: { projectId: "book", runId: "r-new", request: {} },
  output: null,
  createdTime: new Date("2026-11-30T09:00:00.000Z"),
  lastUpdatedTime: new Date("2026-11-30T09:00:00.000Z"),
} as unknown as DurableOrchestrationStatus;

describe("the dashboard's current run", () => {
  it("a Pending new run is the new run, not the last run's manifest", () => {
    const summary = summarize(deps, "book", pendingNewRun, lastRun);
    expect(summary.runId).toBe("r-new");
    expect(summary.runtimeStatus).toBe("Pending");
    expect(summary.billableCharacters).toBe(0);
    expect(summary.chapters.total).toBe(0);
    expect(summary.startedAt).toBe("2026-11-30T09:00:00.000Z");
    expect(summary.completedAt).toBeNull();
  });

  it("the run view's choice (currentRun) is the same", () => {
    const run = currentRun("book", pendingNewRun, lastRun);
    expect(run).toMatchObject({ runId: "r-new", current: undefined, ended: false, phase: "pending" });
  });

  it("with no instance, the manifest's run is the current one", () => {
    const summary = summarize(deps, "book", undefined, lastRun);
    expect(summary).toMatchObject({
      runId: "r-last",
      phase: "completed",
      billableCharacters: 120_000,
      completedAt: "2026-11-30T08:10:00.000Z",
      cost: { amount: 1.8, pricePerMillionCharacters: PRICE },
    });
  });
});
