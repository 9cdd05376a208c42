import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../tools/emulator/index.js";
import { billableCharacters, parseSsml, planSpeech, wordBoundaries } from "../../tools/emulator/text.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { API, client, type Job, ssml } from "./helpers.js";

async function status(
  emulator: TestEmulator,
  id: string,
): Promise<Job & { createdDateTime: string; lastActionDateTime: string }> {
  return (await (await client(emulator).get(id)).json()) as Job & {
    createdDateTime: string;
    lastActionDateTime: string;
  };
}

describe("Speech emulator: job timeline on an injected clock", () => {
  let emulator: TestEmulator;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  beforeAll(async () => {
    // Service time, unscaled: 5 s start latency, then 100 characters a second.
    emulator = await startTestEmulator({
      clock,
      timeScale: 1,
      startLatencyMs: 5_000,
      charsPerSecond: 100,
      jobConcurrency: 1,
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("goes NotStarted → Running after the start latency → Succeeded after the characters are synthesized", async () => {
    const text = "a".repeat(1_000); // 1,000 characters: 10 s of synthesis
    const created = await client(emulator).put("timeline-job", {
      inputKind: "PlainText",
      synthesisConfig: { voice: "en-US-JennyNeural" },
      inputs: [{ content: text }],
    });
    const operationId = created.headers.get("operation-id");
    expect((await status(emulator, "timeline-job")).status).toBe("NotStarted");
    clock.advance(4_999);
    expect((await status(emulator, "timeline-job")).status).toBe("NotStarted");
    clock.advance(1);
    const running = await status(emulator, "timeline-job");
    expect(running.status).toBe("Running");
    expect(running.lastActionDateTime).toBe("2026-01-01T00:00:05.0000000Z");
    const operation = await client(emulator).raw(`/texttospeech/operations/${operationId}?${API}`);
    expect(await operation.json()).toEqual({ id: operationId, status: "Running" });
    clock.advance(9_999);
    expect((await status(emulator, "timeline-job")).status).toBe("Running");
    clock.advance(1);
    const done = await waitFor(async () => {
      const job = await status(emulator, "timeline-job");
      return job.status === "Succeeded" ? job : undefined;
    });
    expect(done.lastActionDateTime).toBe("2026-01-01T00:00:15.0000000Z");
  });

  it("reports times on the modelled timeline when time is scaled: lastActionDateTime − createdDateTime is service time", async () => {
    const scaledClock = new ManualClock(Date.UTC(2026, 0, 1));
    // Scale 10: the same job (5 s latency, 10 s of synthesis) takes 1.5 s of the clock.
    const scaled = await startTestEmulator({
      clock: scaledClock,
      timeScale: 10,
      startLatencyMs: 5_000,
      charsPerSecond: 100,
    });
    try {
      scaledClock.advance(2_000);
      await client(scaled).put("scaled-job", {
        inputKind: "PlainText",
        synthesisConfig: { voice: "en-US-JennyNeural" },
        inputs: [{ content: "a".repeat(1_000) }],
      });
      scaledClock.advance(1_500);
      const done = await waitFor(async () => {
        const job = await status(scaled, "scaled-job");
        return job.status === "Succeeded" ? job : undefined;
      });
      // 2 s of the clock after the emulator's start are 20 s of modelled time; the job then took 15 s of it.
      expect(done.createdDateTime).toBe("2026-01-01T00:00:20.0000000Z");
      expect(done.lastActionDateTime).toBe("2026-01-01T00:00:35.0000000Z");
      // Billed once: one job, one input, its characters.
      expect(await scaled.usage()).toMatchObject({ jobs: 1, inputs: 1, billableCharacters: 1_000 });
    } finally {
      await scaled.stop();
    }
  });

  it("queues jobs one by one when jobConcurrency is 1", async () => {
    const body = {
      inputKind: "PlainText",
      synthesisConfig: { voice: "en-US-JennyNeural" },
      inputs: [{ content: "b".repeat(1_000) }],
    };
    expect((await client(emulator).put("queued-first", body)).status).toBe(201);
    expect((await client(emulator).put("queued-second", body)).status).toBe(201);
    clock.advance(5_000);
    expect((await status(emulator, "queued-first")).status).toBe("Running");
    expect((await status(emulator, "queued-second")).status).toBe("NotStarted");
    clock.advance(10_000);
    expect((await status(emulator, "queued-second")).status).toBe("Running");
  });

  it("deletes finished jobs after timeToLiveInHours", async () => {
    expect(
      (
        await client(emulator).put("short-lived", {
          inputKind: "SSML",
          inputs: [{ content: ssml("Hi.") }],
          properties: { timeToLiveInHours: 1 },
        })
      ).status,
    ).toBe(201);
    clock.advance(60_000);
    await waitFor(async () => (await status(emulator, "short-lived")).status === "Succeeded");
    clock.advance(3_600_000 + 60_000);
    expect((await client(emulator).get("short-lived")).status).toBe(404);
  });
});

function wordBoundariesOf(text: string): string[] {
  return wordBoundaries(planSpeech(text)).map((w) => w.Text);
}

describe("Speech emulator: text rules", () => {
  it("counts billable characters like Azure: SSML without <speak>/<voice> tags, CJK twice", () => {
    expect(billableCharacters(ssml("The rainbow has seven colors."), "SSML")).toBe(29);
    expect(billableCharacters(ssml('Hi <break time="500ms"/> there.'), "SSML")).toBe(
      'Hi <break time="500ms"/> there.'.length,
    );
    expect(billableCharacters("你好", "PlainText")).toBe(4);
    expect(billableCharacters("こんにちは", "PlainText")).toBe(5);
  });

  it("turns <break> into a pause of the timing model", () => {
    const parsed = parseSsml(ssml('One. <break time="1500ms"/> Two. <break strength="weak"/> Three.'));
    expect(parsed.ok).toBe(true);
    const text = parsed.ok ? parsed.value.text : "";
    const withPauses = planSpeech(text).totalMs;
    const without = planSpeech("One. Two. Three.").totalMs;
    expect(withPauses - without).toBe(2000);
    expect(wordBoundariesOf(text)).toEqual(["One", ".", "Two", ".", "Three", "."]);
  });

  it("plans speech at about 150 words a minute", () => {
    const words = Array.from({ length: 150 }, (_, i) => ["the", "rainbow", "has", "seven", "colors"][i % 5]);
    const sentences: string[] = [];
    for (let i = 0; i < words.length; i += 12) sentences.push(`${words.slice(i, i + 12).join(" ")}.`);
    const minutes = planSpeech(sentences.join(" ")).totalMs / 60_000;
    expect(150 / minutes).toBeGreaterThan(120);
    expect(150 / minutes).toBeLessThan(180);
  });
});

describe("Speech emulator: deleting jobs while they are produced", () => {
  it("stays healthy and lets the id be reused", async () => {
    const emulator = await startTestEmulator({ audioMode: "synthetic", timeScale: 100 });
    try {
      const inputs = Array.from({ length: 30 }, (_, i) => ({
        content: ssml(`Paragraph ${i} of a chapter being deleted.`),
      }));
      for (let round = 0; round < 3; round++) {
        expect((await client(emulator).put("deleted-midway", { inputKind: "SSML", inputs })).status).toBe(
          201,
        );
        expect((await client(emulator).del("deleted-midway")).status).toBe(204);
      }
      expect(
        (await client(emulator).put("deleted-midway", { inputKind: "SSML", inputs: inputs.slice(0, 2) }))
          .status,
      ).toBe(201);
      const job = await waitFor(async () => {
        const current = await status(emulator, "deleted-midway");
        return current.status === "Succeeded" ? current : undefined;
      });
      expect(job.properties.succeededAudioCount).toBe(2);
    } finally {
      await emulator.stop();
    }
  });
});

describe("Speech emulator: inputs of one job are synthesized in parallel lanes", () => {
  it("finishes when the busiest lane is done, not after the sum of all inputs", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 2));
    const emulator = await startTestEmulator({
      clock,
      timeScale: 1,
      startLatencyMs: 5_000,
      charsPerSecond: 100,
      inputParallelism: 2,
      audioMode: "synthetic",
    });
    try {
      // Lanes of 2: 1,000 + 500 characters on the first, 1,000 on the second -> 15 s, not 25 s.
      await client(emulator).put("lanes-job", {
        inputKind: "PlainText",
        synthesisConfig: { voice: "en-US-JennyNeural" },
        inputs: [
          { content: "a".repeat(1_000) },
          { content: "b".repeat(1_000) },
          { content: "c".repeat(500) },
        ],
      });
      clock.advance(5_000 + 14_999);
      expect((await status(emulator, "lanes-job")).status).toBe("Running");
      clock.advance(1);
      const done = await waitFor(async () => {
        const job = await status(emulator, "lanes-job");
        return job.status === "Succeeded" ? job : undefined;
      });
      expect(done.lastActionDateTime).toBe("2026-01-02T00:00:20.0000000Z");
    } finally {
      await emulator.stop();
    }
  });
});
