import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../tools/emulator/index.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { startTestEmulator } from "../support/emulator.js";
import { client, download, type Job, ssml, unzip, waitForTerminal } from "./helpers.js";

describe("Speech emulator: persistence across restarts", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "emulator-state-"));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("keeps jobs, usage and results; a Running job resumes its timeline", async () => {
    const start = Date.now();
    const clock = new ManualClock(start);
    // Service time: 5 s start latency, then 29 characters at 1 character per second.
    const options = { stateDir, timeScale: 1, charsPerSecond: 1, audioMode: "synthetic" as const };
    const first = await startTestEmulator({ ...options, clock });
    expect(
      (
        await client(first).put("persisted-done", {
          inputKind: "SSML",
          inputs: [{ content: ssml("Finished before.") }],
        })
      ).status,
    ).toBe(201);
    clock.advance(60_000);
    const done = await waitFor(async () => {
      const job = (await (await client(first).get("persisted-done")).json()) as Job;
      return job.status === "Succeeded" ? job : undefined;
    });
    expect(
      (
        await client(first).put("persisted-running", {
          inputKind: "SSML",
          inputs: [{ content: ssml("The rainbow has seven colors.") }],
        })
      ).status,
    ).toBe(201);
    clock.advance(10_000); // started at +5 s, needs 29 s more
    expect(((await (await client(first).get("persisted-running")).json()) as Job).status).toBe("Running");
    const usageBefore = await first.usage();
    await first.stop();

    const second = await startTestEmulator({ ...options, clock });
    try {
      expect(await second.usage()).toEqual(usageBefore);
      expect(((await (await client(second).get("persisted-running")).json()) as Job).status).toBe("Running");
      const restoredDone = (await (await client(second).get("persisted-done")).json()) as Job;
      expect(restoredDone.status).toBe("Succeeded");
      expect(restoredDone.properties.sizeInBytes).toBe(done.properties.sizeInBytes);
      // The old result URL stays valid (same key, same signature; only the test's port changed).
      const oldUrl = new URL(done.outputs?.result as string);
      const files = await unzip(await download(`${second.url}${oldUrl.pathname}${oldUrl.search}`));
      expect(files.has("0001.wav")).toBe(true);
      clock.advance(30_000);
      const finished = await waitForTerminal(second, "persisted-running");
      expect(finished.status).toBe("Succeeded");
      expect((await unzip(await download(finished.outputs?.result as string))).has("summary.json")).toBe(
        true,
      );
      expect((await second.usage()).jobs).toBe(2);
    } finally {
      await second.stop();
    }
  });

  it("finishes production of a job interrupted by a stop", async () => {
    const options = { stateDir, audioMode: "synthetic" as const };
    const first = await startTestEmulator(options);
    const inputs = Array.from({ length: 20 }, (_, i) => ({ content: ssml(`Input number ${i}.`) }));
    expect((await client(first).put("interrupted", { inputKind: "SSML", inputs })).status).toBe(201);
    await first.stop();
    const second = await startTestEmulator(options);
    try {
      const job = await waitForTerminal(second, "interrupted");
      expect(job.status).toBe("Succeeded");
      expect(job.properties.succeededAudioCount).toBe(20);
    } finally {
      await second.stop();
    }
  });
});
