import { AzureKeyCredential } from "@azure/core-auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RealtimeSynthesisClient,
  RealtimeSynthesisError,
  realtimeRequests,
  SpeechServiceError,
} from "../../src/speech/index.js";
import { billableCharacters } from "../../src/text/index.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/**
 * synthesizeLong sends a long text as several requests. When a later one fails, the error says what the service
 * billed before it, so the pipeline can report the cost of a failed chapter (test/pipeline/realtimeBilling.e2e).
 */
const VOICE = "en-US-AvaMultilingualNeural";
const MP3 = "audio-24khz-96kbitrate-mono-mp3";
const paragraph = (n: number) =>
  `Paragraph ${n}. ${"The river runs to the sea, and the rain falls. ".repeat(18)}`;

let emulator: TestEmulator;
let client: RealtimeSynthesisClient;
beforeAll(async () => {
  emulator = await startTestEmulator({ rateLimit: false, realtimeRateLimit: false, audioMode: "fast" });
  client = new RealtimeSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key));
});
afterAll(async () => {
  await emulator?.stop();
});

describe("realtime billing when a later request fails", () => {
  it("rejects with what was billed: the earlier requests' characters, every request served", async () => {
    // Three requests of ~1,000 characters; the second carries the fault marker, so the third is never sent.
    const text = [paragraph(1), `${paragraph(2)} [[emulator:fail-always]]`, paragraph(3)].join("\n\n");
    const sizing = { maxCharactersPerRequest: 1_000 };
    const { chunks } = realtimeRequests({ text, voice: VOICE }, sizing);
    expect(chunks.map((c) => c.includes("fail-always"))).toEqual([false, true, false]);

    const before = await emulator.usage();
    const error = await client.synthesizeLong({ text, voice: VOICE, outputFormat: MP3 }, sizing).then(
      () => undefined,
      (e: unknown) => e,
    );
    const after = await emulator.usage();

    expect(error).toBeInstanceOf(RealtimeSynthesisError);
    const failure = error as RealtimeSynthesisError;
    expect(failure.cause).toBeInstanceOf(SpeechServiceError);
    expect(failure.message).toMatch(/fail-always/);
    expect(failure.message).not.toContain(emulator.key);
    expect(failure.characters).toBe(billableCharacters(chunks[0] as string, "SSML"));
    expect(failure.characters).toBe(after.realtimeCharacters - before.realtimeCharacters);
    expect(failure.requests).toBe(2);
    expect(failure.requests).toBe(after.requests.realtime - before.requests.realtime);
  });

  it("a first request that fails bills nothing and counts the one request served", async () => {
    const before = await emulator.usage();
    const error = await client
      .synthesizeLong({ text: "Refused at once. [[emulator:fail-always]]", voice: VOICE, outputFormat: MP3 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const after = await emulator.usage();
    expect(error).toMatchObject({ name: "RealtimeSynthesisError", requests: 1, characters: 0 });
    expect(after.realtimeCharacters).toBe(before.realtimeCharacters);
    expect(after.requests.realtime - before.requests.realtime).toBe(1);
  });
});
