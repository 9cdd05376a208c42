import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanMp3 } from "../../tools/emulator/audio/codecs.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { decodeWav, ssml } from "./helpers.js";

function synthesize(
  emulator: TestEmulator,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${emulator.url}/cognitiveservices/v1`, {
    method: "POST",
    headers: {
      "Ocp-Apim-Subscription-Key": emulator.key,
      "Content-Type": "application/ssml+xml",
      "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
      "User-Agent": "tts-pipeline-tests",
      ...headers,
    },
    body,
  });
}

describe("Speech emulator: realtime endpoint", () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ audioMode: "speech" });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("returns decodable WAV with the right Content-Type, and bills realtime characters", async () => {
    const body = ssml("The rainbow has seven colors.");
    const response = await synthesize(emulator, body);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("audio/wav");
    const wav = decodeWav(Buffer.from(await response.arrayBuffer()));
    expect(wav).toMatchObject({ sampleRate: 24000, bitsPerSample: 16 });
    expect(wav.durationMs).toBeGreaterThan(1000);
    expect(wav.durationMs).toBeLessThan(5000);
    const usage = await emulator.usage();
    expect(usage.requests.realtime).toBe(1);
    expect(usage.realtimeCharacters).toBe(29);
  });

  it("honours SSML <break> in the audio length", async () => {
    const plain = await synthesize(emulator, ssml("Wait for it. Here it is."));
    const paused = await synthesize(emulator, ssml('Wait for it. <break time="2s"/> Here it is.'));
    const plainMs = decodeWav(Buffer.from(await plain.arrayBuffer())).durationMs;
    const pausedMs = decodeWav(Buffer.from(await paused.arrayBuffer())).durationMs;
    expect(pausedMs - plainMs).toBeGreaterThan(1500);
    expect(pausedMs - plainMs).toBeLessThan(2600);
  });

  it("returns MP3 frames for an MP3 format", async () => {
    const response = await synthesize(emulator, ssml("Hello from the emulator."), {
      "X-Microsoft-OutputFormat": "audio-16khz-32kbitrate-mono-mp3",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("audio/mpeg");
    const scan = scanMp3(Buffer.from(await response.arrayBuffer()));
    expect(scan.sampleRate).toBe(16000);
    expect(scan.frames).toBeGreaterThan(10);
  });

  it("renders the same audio for the same text under concurrency", async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, () =>
        synthesize(emulator, ssml("Same words every time."), {
          "X-Microsoft-OutputFormat": "audio-16khz-32kbitrate-mono-mp3",
        }),
      ),
    );
    const sizes = await Promise.all(responses.map(async (r) => (await r.arrayBuffer()).byteLength));
    expect(new Set(sizes).size).toBe(1);
  });

  it("415 for a wrong content type; 400 for bad SSML, a missing voice, a missing or unknown format; 401 without key", async () => {
    const wrongType = await synthesize(emulator, ssml("Hi."), { "Content-Type": "text/plain" });
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get("x-ms-error-code")).toBe("UnsupportedMediaType");
    expect((await synthesize(emulator, "<speak><voice name='x'>unclosed")).status).toBe(400);
    expect((await synthesize(emulator, "<speak version='1.0'>No voice.</speak>")).status).toBe(400);
    expect((await synthesize(emulator, ssml("Hi."), { "X-Microsoft-OutputFormat": "" })).status).toBe(400);
    expect(
      (await synthesize(emulator, ssml("Hi."), { "X-Microsoft-OutputFormat": "mp5-96khz" })).status,
    ).toBe(400);
    expect((await synthesize(emulator, ssml("Hi."), { "Ocp-Apim-Subscription-Key": "wrong" })).status).toBe(
      401,
    );
  });

  it("issues tokens for the key and lists voices, like the realtime service", async () => {
    const tokenResponse = await fetch(`${emulator.url}/sts/v1.0/issueToken`, {
      method: "POST",
      headers: {
        "Ocp-Apim-Subscription-Key": emulator.key,
        "Content-Type": "application/x-www-form-urlencoded",
      },
    });
    expect(tokenResponse.status).toBe(200);
    const token = await tokenResponse.text();
    const withToken = await synthesize(emulator, ssml("Token auth."), {
      "Ocp-Apim-Subscription-Key": "",
      Authorization: `Bearer ${token}`,
    });
    expect(withToken.status).toBe(200);
    await withToken.arrayBuffer();
    const voices = await fetch(`${emulator.url}/cognitiveservices/voices/list`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await voices.json()).toContainEqual(
      expect.objectContaining({ ShortName: "en-US-JennyNeural", WordsPerMinute: "152" }),
    );
  });

  it("shares faults with the batch API", async () => {
    await emulator.setFault({ status: 503, method: "POST", path: "/cognitiveservices/", count: 1 });
    expect((await synthesize(emulator, ssml("Hi."))).status).toBe(503);
    expect((await synthesize(emulator, ssml("Hi."))).status).toBe(200);
  });
});

describe("Speech emulator: realtime truncates at 10 minutes", () => {
  it("caps a long text's audio at 600 s", async () => {
    const emulator = await startTestEmulator({ audioMode: "fast" });
    try {
      const long = "This sentence is one of very many in a long text. ".repeat(300); // ~3,000 words, ~20 minutes
      const response = await synthesize(emulator, ssml(long), {
        "X-Microsoft-OutputFormat": "riff-8khz-16bit-mono-pcm",
      });
      expect(response.status).toBe(200);
      const wav = decodeWav(Buffer.from(await response.arrayBuffer()));
      expect(wav.durationMs).toBeLessThanOrEqual(600_000);
      expect(wav.durationMs).toBeGreaterThan(590_000);
    } finally {
      await emulator.stop();
    }
  });
});

describe("Speech emulator: realtime usage", () => {
  it("counts every realtime request, failed ones too, and bills only synthesized characters", async () => {
    const emulator = await startTestEmulator({ audioMode: "fast" });
    try {
      expect((await synthesize(emulator, ssml("Billed text."))).status).toBe(200);
      const failing = ssml("Never spoken. [[emulator:fail-always]]");
      expect((await synthesize(emulator, failing)).status).toBe(400);
      expect((await synthesize(emulator, "<speak>no voice</speak>")).status).toBe(400);
      expect((await synthesize(emulator, ssml("Hi."), { "Content-Type": "text/plain" })).status).toBe(415);
      const usage = await emulator.usage();
      expect(usage.requests.realtime).toBe(4);
      expect(usage.realtimeCharacters).toBe("Billed text.".length);
    } finally {
      await emulator.stop();
    }
  });
});
