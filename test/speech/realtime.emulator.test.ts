import { AzureKeyCredential } from "@azure/core-auth";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { measureDurationMs, parseWav } from "../../src/audio/index.js";
import { getOutputFormat, RealtimeSynthesisClient, SpeechServiceError } from "../../src/speech/index.js";
import { textToSsml } from "../../src/text/index.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { decodeMp3WithLame } from "../support/lame.js";

const VOICE = "en-US-AvaMultilingualNeural";
const MAX = 300;

/** About 1,000 characters in 4 paragraphs, with characters that must be escaped. */
const TEXT = Array.from(
  { length: 4 },
  (_, p) =>
    `Paragraph ${p + 1}. Tom & Jerry said "hello" to the <cat>. ` +
    "The rainbow has seven colors, and the river runs to the sea. ".repeat(3),
).join("\n\n");

let emulator: TestEmulator;
let client: RealtimeSynthesisClient;

beforeAll(async () => {
  // Real audio (espeak-ng when installed, a synthetic voice otherwise), not the fast path.
  emulator = await startTestEmulator({
    rateLimit: false,
    audioMode: "speech",
    fastAudioThresholdMs: 60 * 60 * 1000,
  });
  client = new RealtimeSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key));
});

afterAll(async () => {
  await emulator?.stop();
});

describe("RealtimeSynthesisClient against the emulator", () => {
  it.each(["audio-24khz-96kbitrate-mono-mp3", "riff-24khz-16bit-mono-pcm"])(
    "joins long text split over several requests into one playable %s file whose duration is the sum",
    async (formatName) => {
      const format = getOutputFormat(formatName);
      const received: Buffer[] = [];
      const synthesize = client.synthesize.bind(client);
      const spy = vi.spyOn(client, "synthesize").mockImplementation(async (...args) => {
        const audio = await synthesize(...args);
        received.push(audio);
        return audio;
      });
      const before = await emulator.usage();
      const long = await client.synthesizeLong(
        { text: TEXT, voice: VOICE, outputFormat: formatName },
        { maxCharactersPerRequest: MAX },
      );
      spy.mockRestore();
      const after = await emulator.usage();
      expect(long.requests).toBeGreaterThanOrEqual(3);
      expect(after.requests.realtime - before.requests.realtime).toBe(long.requests);

      // The parts the join was made of: every audio the client received, measured one by one.
      expect(received).toHaveLength(long.requests);
      const sum = received.reduce((n, p) => n + measureDurationMs(p, format), 0);
      expect(Math.abs(long.durationMs - sum)).toBeLessThanOrEqual(2);
      expect(long.durationMs).toBeGreaterThan(10_000); // ~1,000 characters is about a minute of speech

      if (format.container === "riff") {
        const wav = parseWav(long.audio);
        expect(long.audio.indexOf("RIFF", 4)).toBe(-1);
        expect(long.audio.readUInt32LE(4)).toBe(long.audio.length - 8);
        expect(wav.dataOffset + wav.dataLength).toBe(long.audio.length);
      } else {
        const decoded = decodeMp3WithLame(long.audio);
        if (decoded) {
          const pcm = parseWav(decoded);
          const decodedMs = (pcm.dataLength / pcm.byteRate) * 1000;
          expect(Math.abs(decodedMs - sum) / sum).toBeLessThan(0.02);
        }
      }
    },
  );

  it("synthesizes user SSML as is and refuses invalid SSML before sending", async () => {
    const ssml = `<speak version="1.0" xml:lang="en-US"><voice name="${VOICE}">Short &amp; sweet.</voice></speak>`;
    const audio = await client.synthesize(ssml, "riff-24khz-16bit-mono-pcm");
    expect(measureDurationMs(audio, getOutputFormat("riff-24khz-16bit-mono-pcm"))).toBeGreaterThan(0);
    await expect(
      client.synthesizeLong({
        ssml: "<speak>no voice</speak>",
        voice: VOICE,
        outputFormat: "riff-24khz-16bit-mono-pcm",
      }),
    ).rejects.toThrow(TypeError);
  });

  it("surfaces service errors (fault marker, unsupported format) as SpeechServiceError", async () => {
    const failing = textToSsml("This fails [[emulator:fail-always]].", { voice: VOICE });
    await expect(client.synthesize(failing, "riff-24khz-16bit-mono-pcm")).rejects.toBeInstanceOf(
      SpeechServiceError,
    );
    await expect(
      client.synthesize(textToSsml("x", { voice: VOICE }), "riff-9khz-3bit-mono-pcm"),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
  });
});
