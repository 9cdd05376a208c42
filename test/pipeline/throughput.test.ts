import { describe, expect, it } from "vitest";
import type { ServiceRate } from "../../src/pipeline/runState.js";
import type { RunStore } from "../../src/pipeline/runStore.js";
import {
  PRIOR_MERGE_MAX_AGE_MS,
  readThroughputPrior,
  recordThroughput,
  THROUGHPUT_WRITE_ATTEMPTS,
} from "../../src/pipeline/throughput.js";
import { memoryDeps } from "../support/memoryDeps.js";

/**
 * The deployment's throughput prior (`_throughput.json`) as collects merge their lanes' brackets into it, on
 * the in-memory run store (the same conditional semantics as Blob storage: runStore.memory/blob tests).
 */
const HOUR = 60 * 60 * 1000;

function clock(start = Date.parse("2026-11-30T12:00:00.000Z")) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

const from = (runId: string, jobNumber: number, rate: ServiceRate) => ({
  projectId: "book",
  runId,
  jobNumber,
  rate,
});

/** Writes a record whatever is stored (a record of an older shape, or another writer winning a race). */
async function overwrite(
  runs: RunStore,
  record: Parameters<RunStore["replaceThroughput"]>[0],
): Promise<void> {
  const { etag } = await runs.readThroughputVersion();
  if (!(await runs.replaceThroughput(record, etag))) throw new Error("the record moved while overwriting it");
}

describe("throughput prior", () => {
  it("keeps the intersection of overlapping brackets, so three lanes leave the narrowest one", async () => {
    const time = clock();
    const deps = memoryDeps({ now: time.now });
    // One cold wave: the probe's doubling bracket, then two lanes that polled their heads with it.
    expect(await recordThroughput(deps, from("r1", 1, { low: 3_132, high: 6_264 }))).toBe(true);
    time.advance(20_000);
    expect(await recordThroughput(deps, from("r1", 2, { low: 3_600, high: 4_100 }))).toBe(true);
    time.advance(1_000);
    expect(await recordThroughput(deps, from("r1", 3, { low: 3_500, high: 3_900 }))).toBe(true);
    const record = await deps.runs.readThroughput();
    expect(record?.rate).toEqual({ low: 3_600, high: 3_900 });
    expect(record).toMatchObject({ runId: "r1", jobNumber: 3, since: "2026-11-30T12:00:00.000Z" });
    expect(record?.measuredAt).toBe(time.now().toISOString());
    expect(await readThroughputPrior(deps)).toEqual({ low: 3_600, high: 3_900 });
  });

  it("starts again from the newest bracket when they are disjoint (the service changed)", async () => {
    const deps = memoryDeps({ now: clock().now });
    await recordThroughput(deps, from("r1", 1, { low: 3_600, high: 3_900 }));
    await recordThroughput(deps, from("r2", 1, { low: 1_800, high: 1_900 }));
    expect((await deps.runs.readThroughput())?.rate).toEqual({ low: 1_800, high: 1_900 });
  });

  it("does not intersect with measurements older than the merge age, counted from the oldest", async () => {
    const time = clock();
    const deps = memoryDeps({ now: time.now });
    await recordThroughput(deps, from("r1", 1, { low: 3_000, high: 4_000 }));
    // Merged again and again within the age: still narrowing, `since` stays at the first bracket.
    time.advance(PRIOR_MERGE_MAX_AGE_MS / 2);
    await recordThroughput(deps, from("r2", 1, { low: 3_500, high: 4_500 }));
    expect((await deps.runs.readThroughput())?.rate).toEqual({ low: 3_500, high: 4_000 });
    // Past the age of the oldest bracket (though the last merge was recent): the newest alone.
    time.advance(PRIOR_MERGE_MAX_AGE_MS / 2 + HOUR);
    await recordThroughput(deps, from("r3", 1, { low: 3_700, high: 4_400 }));
    const record = await deps.runs.readThroughput();
    expect(record?.rate).toEqual({ low: 3_700, high: 4_400 });
    expect(record?.since).toBe(time.now().toISOString());
  });

  it("replaces a record of an older shape or one that is not a bracket", async () => {
    const time = clock();
    const deps = memoryDeps({ now: time.now });
    // Written before merging: no `since`; its `measuredAt` dates it.
    await overwrite(deps.runs, {
      ...from("r0", 1, { low: 3_000, high: 4_000 }),
      measuredAt: new Date(time.now().getTime() - HOUR).toISOString(),
    });
    await recordThroughput(deps, from("r1", 1, { low: 3_500, high: 4_500 }));
    expect((await deps.runs.readThroughput())?.rate).toEqual({ low: 3_500, high: 4_000 });
    await overwrite(deps.runs, {
      ...from("r0", 1, { low: 3_000 }),
      measuredAt: time.now().toISOString(),
    });
    await recordThroughput(deps, from("r1", 2, { low: 3_500, high: 4_500 }));
    expect((await deps.runs.readThroughput())?.rate).toEqual({ low: 3_500, high: 4_500 });
    // A one-sided rate predicts nothing: not recorded.
    expect(await recordThroughput(deps, from("r1", 3, { low: 3_600 }))).toBe(false);
    expect((await deps.runs.readThroughput())?.rate).toEqual({ low: 3_500, high: 4_500 });
  });

  it("merges both of two collects that write at the same time (a lost conditional write is read again)", async () => {
    const deps = memoryDeps({ now: clock().now });
    await recordThroughput(deps, from("r1", 1, { low: 3_000, high: 5_000 }));
    // Two lanes' collects read the same version before either writes.
    const [a, b] = await Promise.all([
      recordThroughput(deps, from("r1", 2, { low: 3_500, high: 4_800 })),
      recordThroughput(deps, from("r1", 3, { low: 3_200, high: 4_200 })),
    ]);
    expect([a, b]).toEqual([true, true]);
    // Last-writer-wins would leave one lane's bracket ∩ the first: [3500, 4800] or [3200, 4200].
    expect((await deps.runs.readThroughput())?.rate).toEqual({ low: 3_500, high: 4_200 });
  });

  it("gives up after a few lost races without failing the caller's collect", async () => {
    const deps = memoryDeps({ now: clock().now });
    await recordThroughput(deps, from("r1", 1, { low: 3_000, high: 5_000 }));
    let attempts = 0;
    const runs: RunStore = Object.create(deps.runs);
    runs.replaceThroughput = async (record, etag) => {
      attempts++;
      // Someone else writes between every read and this write.
      await overwrite(deps.runs, { ...record, jobNumber: 99 });
      return deps.runs.replaceThroughput(record, etag);
    };
    expect(await recordThroughput({ ...deps, runs }, from("r1", 2, { low: 3_500, high: 4_500 }))).toBe(false);
    expect(attempts).toBe(THROUGHPUT_WRITE_ATTEMPTS);
  });
});
