import { AzureKeyCredential } from "@azure/core-auth";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { measureDurationMs } from "../../src/audio/index.js";
import { getOutputFormat, RealtimeSynthesisClient, TRUNCATED_AUDIO_MS } from "../../src/speech/index.js";
import { prosodyRateFactor, realtimeChunkCharacters, slowestProsodyRate } from "../../src/text/index.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/**
 * The realtime endpoint cuts audio at 10 minutes without an error (rest-text-to-speech.md, "Sample request").
 * The emulator cuts the same way and honours <prosody rate>, so a chunk sized by characters alone comes back short.
 */
const VOICE = "en-US-AvaMultilingualNeural"; // 150 words a minute in the emulator's voice list
const MP3 = "audio-24khz-96kbitrate-mono-mp3";
const format = getOutputFormat(MP3);
/** ~8,500 characters of prose in paragraphs: about 9.5 minutes at the emulator's ~150 words a minute. */
const BOOK = Array.from(
  { length: 34 },
  (_, p) => `Paragraph ${p + 1}. ${"The river runs to the sea, and the rain falls on the hills. ".repeat(4)}`,
).join("\n\n");

let emulator: TestEmulator;
let client: RealtimeSynthesisClient;

beforeAll(async () => {
  emulator = await startTestEmulator({ rateLimit: false, realtimeRateLimit: false, audioMode: "fast" });
  client = new RealtimeSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key));
});
afterAll(async () => {
  await emulator?.stop();
});

/** Durations of every audio part the client received. */
function recordParts(target: RealtimeSynthesisClient): { parts: number[]; restore: () => void } {
  const parts: number[] = [];
  const synthesize = target.synthesize.bind(target);
  const spy = vi.spyOn(target, "synthesize").mockImplementation(async (...args) => {
    const audio = await synthesize(...args);
    parts.push(measureDurationMs(audio, format));
    return audio;
  });
  return { parts, restore: () => spy.mockRestore() };
}

describe("realtime 10-minute cut", () => {
  it("sizes chunks from the voice's words per minute and the prosody rate", () => {
    expect(prosodyRateFactor("-30%")).toBeCloseTo(0.7);
    expect(prosodyRateFactor("slow")).toBe(0.64);
    expect(prosodyRateFactor("1.2")).toBe(1.2);
    expect(prosodyRateFactor("nonsense")).toBe(1);
    expect(
      slowestProsodyRate('<speak><prosody rate="fast">a</prosody><prosody rate="-25%">b</prosody></speak>'),
    ).toBe(0.75);
    const normal = realtimeChunkCharacters({ wordsPerMinute: 150 });
    expect(normal).toBeLessThan(9_000); // the old fixed size, 2 % under an average voice's 10 minutes
    expect(realtimeChunkCharacters({ wordsPerMinute: 150, rateFactor: 0.7 })).toBeCloseTo(normal * 0.7, -1);
    expect(realtimeChunkCharacters({ wordsPerMinute: 120 })).toBeLessThan(normal);
  });

  it("a slow rate makes smaller chunks, so no request reaches the cut and nothing is lost", async () => {
    const { parts, restore } = recordParts(client);
    const before = await emulator.usage();
    const result = await client
      .synthesizeLong({ text: BOOK, voice: VOICE, outputFormat: MP3, prosody: { rate: "-30%" } })
      .finally(restore);
    const after = await emulator.usage();
    // ~8,500 characters at 70 % speed is ~13.5 minutes: more than one request, none cut.
    expect(result.requests).toBeGreaterThanOrEqual(2);
    expect(result.truncatedRequests).toBe(0);
    for (const ms of parts) expect(ms).toBeLessThan(TRUNCATED_AUDIO_MS);
    expect(result.durationMs).toBeGreaterThan(12 * 60_000);
    // Billing exactly once: what the emulator billed is what the client reports sending.
    expect(after.realtimeCharacters - before.realtimeCharacters).toBe(result.characters);
    expect(after.requests.realtime - before.requests.realtime).toBe(result.requests);
  });

  it("a chunk that comes back at 10 minutes is taken as cut: split in two and sent again", async () => {
    // Claim a voice far faster than it is: one chunk of the whole book, which the service cuts at 10 minutes.
    const fresh = new RealtimeSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key));
    const { parts, restore } = recordParts(fresh);
    const before = await emulator.usage();
    const result = await fresh
      .synthesizeLong(
        { text: BOOK, voice: VOICE, outputFormat: MP3, prosody: { rate: "-30%" } },
        { wordsPerMinute: 400 },
      )
      .finally(restore);
    const after = await emulator.usage();
    expect(parts[0]).toBeGreaterThanOrEqual(TRUNCATED_AUDIO_MS);
    expect(result.truncatedRequests).toBeGreaterThanOrEqual(1);
    expect(result.requests).toBe(parts.length);
    // The joined audio holds every part but the cut ones, and is longer than the cut.
    expect(result.durationMs).toBeGreaterThan(12 * 60_000);
    const kept = parts.filter((ms) => ms < TRUNCATED_AUDIO_MS);
    expect(Math.abs(result.durationMs - kept.reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(50);
    // The cut request was billed too; the client counts it.
    expect(after.realtimeCharacters - before.realtimeCharacters).toBe(result.characters);
  });
});
