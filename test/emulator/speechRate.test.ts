import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planSpeech } from "../../tools/emulator/text.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client, decodeWav, download, ssml, unzip, waitForTerminal } from "./helpers.js";

/** English prose of ordinary word lengths (about 4.5 letters a word). */
const PROSE =
  "The harbor was quiet when the merchant came down to the water, and the rain had stopped an hour before. " +
  "He carried the ledger under his arm, wrapped in oilcloth, as he had every evening for eleven years. " +
  "Nobody spoke to him. The lanterns along the stone wall were already lit, and their light lay on the river " +
  "in long yellow lines that moved when the wind moved. ";

function chapter(characters: number): string {
  return PROSE.repeat(Math.ceil(characters / PROSE.length))
    .slice(0, characters)
    .trimEnd();
}

function wordsIn(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

const wordsPerMinute = (words: number, ms: number) => words / (ms / 60_000);

describe("Speech emulator: ~150 words a minute (CONTRACT §6)", () => {
  it("plans a 15,000-character chapter at about 16–17 minutes, and short-word text near 150 too", () => {
    const text = chapter(15_000);
    const plan = planSpeech(text);
    expect(plan.totalMs / 60_000).toBeGreaterThan(15);
    expect(plan.totalMs / 60_000).toBeLessThan(19);
    expect(wordsPerMinute(wordsIn(text), plan.totalMs)).toBeGreaterThan(135);
    expect(wordsPerMinute(wordsIn(text), plan.totalMs)).toBeLessThan(165);
    const short = "the old man and the sea, it was not a bad day. ".repeat(200);
    expect(wordsPerMinute(wordsIn(short), planSpeech(short).totalMs)).toBeLessThan(165);
    expect(wordsPerMinute(wordsIn(short), planSpeech(short).totalMs)).toBeGreaterThan(130);
  });

  describe("audio modes", () => {
    let speech: TestEmulator;
    beforeAll(async () => {
      speech = await startTestEmulator({ audioMode: "speech" });
    });
    afterAll(async () => {
      await speech?.stop();
    });

    it("speech mode (espeak-ng when installed) speaks at ~150 words a minute, with boundaries inside the audio", async () => {
      const text = chapter(1_200);
      const response = await fetch(`${speech.url}/cognitiveservices/v1`, {
        method: "POST",
        headers: {
          "Ocp-Apim-Subscription-Key": speech.key,
          "Content-Type": "application/ssml+xml",
          "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
        },
        body: ssml(text),
      });
      expect(response.status).toBe(200);
      const wav = decodeWav(Buffer.from(await response.arrayBuffer()));
      const wpm = wordsPerMinute(wordsIn(text), wav.durationMs);
      expect(wpm).toBeGreaterThan(135);
      expect(wpm).toBeLessThan(165);
    });

    it("batch speech, synthetic and fast modes agree: summary, word boundaries and audio at ~150 wpm", async () => {
      const text = chapter(2_000);
      const words = wordsIn(text);
      for (const audioMode of ["speech", "synthetic", "fast"] as const) {
        const emulator = audioMode === "speech" ? speech : await startTestEmulator({ audioMode });
        try {
          const id = `rate-${audioMode}`;
          const created = await client(emulator).put(id, {
            inputKind: "SSML",
            inputs: [{ content: ssml(text) }],
            properties: { outputFormat: "riff-24khz-16bit-mono-pcm", wordBoundaryEnabled: true },
          });
          expect(created.status).toBe(201);
          const job = await waitForTerminal(emulator, id);
          expect(job.status).toBe("Succeeded");
          const files = await unzip(await download(job.outputs?.result as string));
          const audio = decodeWav(files.get("0001.wav") as Buffer);
          const summary = JSON.parse((files.get("summary.json") as Buffer).toString()) as {
            results: { properties: { durationInMilliseconds: string } }[];
          };
          const summaryMs = Number(summary.results[0]?.properties.durationInMilliseconds);
          expect(Math.abs(summaryMs - audio.durationMs)).toBeLessThanOrEqual(2);
          const boundaries = JSON.parse((files.get("0001.word.json") as Buffer).toString()) as {
            AudioOffset: number;
            Duration: number;
          }[];
          const last = boundaries[boundaries.length - 1] as { AudioOffset: number; Duration: number };
          expect(last.AudioOffset + last.Duration).toBeLessThanOrEqual(audio.durationMs + 1);
          expect(last.AudioOffset + last.Duration).toBeGreaterThan(audio.durationMs * 0.9);
          const wpm = wordsPerMinute(words, audio.durationMs);
          expect(wpm, audioMode).toBeGreaterThan(135);
          expect(wpm, audioMode).toBeLessThan(165);
        } finally {
          if (emulator !== speech) await emulator.stop();
        }
      }
    });
  });

  it("fails only the input whose RIFF audio would pass 4 GB (a ~1.6 MB chapter at 24 kHz), with a clear message", async () => {
    const emulator = await startTestEmulator({ rateLimit: false });
    try {
      const huge = chapter(1_600_000);
      const created = await client(emulator).put("riff-too-long", {
        inputKind: "PlainText",
        synthesisConfig: { voice: "en-US-JennyNeural" },
        inputs: [{ content: huge }, { content: "A short one." }],
        properties: { outputFormat: "riff-24khz-16bit-mono-pcm" },
      });
      expect(created.status).toBe(201);
      const job = await waitForTerminal(emulator, "riff-too-long");
      expect(job.status).toBe("Succeeded");
      expect(job.properties).toMatchObject({ succeededAudioCount: 1, failedAudioCount: 1 });
      const files = await unzip(await download(job.outputs?.result as string));
      const summary = JSON.parse((files.get("summary.json") as Buffer).toString()) as {
        results: { status: string; error?: { message: string } }[];
      };
      // summary.json is not in input order (CONTRACT §8); the failed entry is the one without an audio file.
      const failed = summary.results.find((r) => r?.status === "Failed");
      expect(failed?.error?.message).toMatch(/RIFF\/WAVE.*4 GB/);
      expect(summary.results.filter((r) => r?.status === "Succeeded")).toHaveLength(1);
    } finally {
      await emulator.stop();
    }
  }, 60_000);
});
