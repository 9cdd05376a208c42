import { describe, expect, it } from "vitest";
import { mapLimit } from "../../src/concurrency.js";

/** A task whose completion the test controls: resolves when `release` is called. */
function gate() {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { opened, release };
}

describe("mapLimit", () => {
  it("keeps at most `limit` tasks in flight and returns results in input order", async () => {
    const gates = [gate(), gate(), gate(), gate(), gate()];
    const started: number[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const running = mapLimit(gates, 2, async (g, i) => {
      started.push(i);
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      await g.opened;
      inFlight--;
      return i * 10;
    });
    await expect.poll(() => started).toEqual([0, 1]);
    // Finishing the second task (not the first) frees the slot for the third.
    gates[1]?.release();
    await expect.poll(() => started).toEqual([0, 1, 2]);
    for (const g of gates) g.release();
    expect(await running).toEqual([0, 10, 20, 30, 40]);
    expect(mostInFlight).toBe(2);
  });

  it("starts nothing more after a failure and rejects with it", async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const others = gate();
    const failure = new Error("item 0 failed");
    const running = mapLimit([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      if (i === 0) throw failure;
      await others.opened;
      finished.push(i);
      return i;
    });
    await expect(running).rejects.toBe(failure);
    // The item in flight with the failing one may still finish; its slot starts nothing new.
    others.release();
    if (started.includes(1)) await expect.poll(() => finished).toEqual([1]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started.filter((i) => i > 1)).toEqual([]);
  });

  it("treats a limit below 1 as 1 and an empty list as no work", async () => {
    expect(await mapLimit([1, 2], 0, async (i) => i + 1)).toEqual([2, 3]);
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});
