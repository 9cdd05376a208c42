import { AzureKeyCredential } from "@azure/core-auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realtimeBillableCharacters } from "../../src/compare/run.js";
import { RealtimeSynthesisClient } from "../../src/speech/index.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/**
 * `compare` asks before it synthesizes: "N realtime synthesis(es), C billable characters". C must be what the
 * realtime client's requests then bill, also where the client cuts a chapter into more requests than one
 * (each request reopens the elements it cuts through, and those tags are billed again).
 */
const VOICE = "en-US-AvaMultilingualNeural"; // 150 words a minute in the emulator's voice list
const MP3 = "audio-24khz-96kbitrate-mono-mp3";
const sentence = "The river runs to the sea, and the rain falls on the hills. ";
/** ~8,000 characters in ONE paragraph: over the client's ~7,000 per request at 150 wpm, under 9,000. */
const ONE_PARAGRAPH = sentence.repeat(133).trim();
/** ~4,000 spoken characters at x-slow (half speed): the client cuts them in two, inside `<prosody>`. */
const SLOW_SSML =
  `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US"><voice name="${VOICE}">` +
  `<prosody rate="x-slow"><p>${sentence.repeat(33).trim()}</p><p>${sentence.repeat(33).trim()}</p></prosody></voice></speak>`;

let emulator: TestEmulator;
let client: RealtimeSynthesisClient;

beforeAll(async () => {
  emulator = await startTestEmulator({ rateLimit: false, realtimeRateLimit: false, audioMode: "fast" });
  client = new RealtimeSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key));
});
afterAll(async () => {
  await emulator?.stop();
});

describe("compare's realtime estimate", () => {
  it.each([
    ["a long single paragraph of text", "text" as const, ONE_PARAGRAPH],
    ["SSML under a slow <prosody>", "ssml" as const, SLOW_SSML],
  ])("is what the realtime requests bill: %s", async (_, kind, content) => {
    const estimate = realtimeBillableCharacters(content, kind, VOICE);
    const before = await emulator.usage();
    const result = await client.synthesizeLong({
      ...(kind === "ssml" ? { ssml: content } : { text: content }),
      voice: VOICE,
      outputFormat: MP3,
    });
    const after = await emulator.usage();
    expect(result.requests).toBe(2);
    expect(result.truncatedRequests).toBe(0);
    expect(after.realtimeCharacters - before.realtimeCharacters).toBe(result.characters);
    expect(estimate).toBe(result.characters);
  });
});
