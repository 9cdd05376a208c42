import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanMp3 } from "../../tools/emulator/audio/codecs.js";
import { hasLibopus } from "../../tools/emulator/audio/render.js";
import { ManualClock } from "../../tools/emulator/index.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client, decodeWav, download, type Job, ssml, unzip, waitForTerminal } from "./helpers.js";

const hasLame = spawnSync("lame", ["--version"]).status === 0;

/** Decodes MP3 with Debian lame when installed (independent of the emulator's own frame walker). */
function decodeMp3WithLame(data: Buffer): number | undefined {
  if (!hasLame) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "mp3-check-"));
  try {
    writeFileSync(join(dir, "in.mp3"), data);
    const result = spawnSync("lame", ["--quiet", "--decode", join(dir, "in.mp3"), join(dir, "out.wav")]);
    if (result.status !== 0) throw new Error(`lame --decode failed: ${result.stderr}`);
    return decodeWav(readFileSync(join(dir, "out.wav"))).durationMs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TEXT =
  "It was a bright cold day in April, and the clocks were striking thirteen. Winston Smith slipped quickly through the glass doors.";

async function runJob(
  emulator: TestEmulator,
  id: string,
  body: object,
): Promise<{ job: Job; files: Map<string, Buffer> }> {
  const created = await client(emulator).put(id, body);
  expect(created.status, await created.clone().text()).toBe(201);
  const job = await waitForTerminal(emulator, id);
  expect(job.status).toBe("Succeeded");
  return { job, files: await unzip(await download(job.outputs?.result as string)) };
}

function expectBoundariesWithin(files: Map<string, Buffer>, name: string, durationMs: number): void {
  const words = JSON.parse((files.get(name) as Buffer).toString()) as {
    Text: string;
    AudioOffset: number;
    Duration: number;
  }[];
  expect(words.length).toBeGreaterThan(10);
  for (let i = 1; i < words.length; i++) {
    expect(words[i]?.AudioOffset).toBeGreaterThanOrEqual(words[i - 1]?.AudioOffset as number);
  }
  const last = words[words.length - 1] as { AudioOffset: number; Duration: number };
  expect(last.AudioOffset + last.Duration).toBeLessThanOrEqual(durationMs + 50);
  expect(last.AudioOffset + last.Duration).toBeGreaterThan(durationMs * 0.7);
}

for (const audioMode of ["speech", "synthetic", "fast"] as const) {
  describe(`Speech emulator audio (${audioMode})`, () => {
    let emulator: TestEmulator;
    beforeAll(async () => {
      emulator = await startTestEmulator({ audioMode });
    });
    afterAll(async () => {
      await emulator?.stop();
    });

    it("RIFF PCM: decodable, duration as reported (~150 words a minute), word and sentence boundaries agree", async () => {
      const { job, files } = await runJob(emulator, "wav-job", {
        inputKind: "PlainText",
        synthesisConfig: { voice: "en-US-JennyNeural" },
        inputs: [{ content: TEXT }],
        properties: { wordBoundaryEnabled: true, sentenceBoundaryEnabled: true },
      });
      const wav = decodeWav(files.get("0001.wav") as Buffer);
      expect(wav).toMatchObject({ formatTag: 1, sampleRate: 24000, bitsPerSample: 16 });
      const reported = job.properties.durationInMilliseconds as number;
      expect(Math.abs(wav.durationMs - reported)).toBeLessThan(reported * 0.2);
      // 22 words at 150 wpm ≈ 8.8 s; allow the spread of real voices.
      expect(reported).toBeGreaterThan(5_000);
      expect(reported).toBeLessThan(14_000);
      expectBoundariesWithin(files, "0001.word.json", wav.durationMs);
      const sentences = JSON.parse((files.get("0001.sentence.json") as Buffer).toString());
      expect(sentences).toHaveLength(2);
      const summary = JSON.parse((files.get("summary.json") as Buffer).toString());
      expect(summary.results[0]).toMatchObject({
        wordBoundaryFileName: "0001.word.json",
        sentenceBoundaryFileName: "0001.sentence.json",
      });
    });

    it("MP3: real MPEG frames whose duration matches the report", async () => {
      const { job, files } = await runJob(emulator, "mp3-job", {
        inputKind: "SSML",
        inputs: [{ content: ssml(TEXT) }],
        properties: { outputFormat: "audio-24khz-96kbitrate-mono-mp3" },
      });
      const mp3 = files.get("0001.mp3") as Buffer;
      const scan = scanMp3(mp3);
      expect(scan.sampleRate).toBe(24000);
      expect(scan.frames).toBeGreaterThan(100);
      const reported = job.properties.durationInMilliseconds as number;
      expect(Math.abs(scan.samples / 24 - reported)).toBeLessThan(reported * 0.2);
      const decodedMs = decodeMp3WithLame(mp3);
      if (decodedMs !== undefined) expect(Math.abs(decodedMs - reported)).toBeLessThan(reported * 0.2);
    });

    it("A-law and mu-law RIFF, raw PCM", async () => {
      for (const [format, tag] of [
        ["riff-8khz-8bit-mono-alaw", 6],
        ["riff-8khz-8bit-mono-mulaw", 7],
      ] as const) {
        const { files } = await runJob(emulator, `g711-${tag}`, {
          inputKind: "SSML",
          inputs: [{ content: ssml("Short test sentence.") }],
          properties: { outputFormat: format },
        });
        expect(decodeWav(files.get("0001.wav") as Buffer)).toMatchObject({
          formatTag: tag,
          sampleRate: 8000,
          bitsPerSample: 8,
        });
      }
      const { job, files } = await runJob(emulator, "raw-job", {
        inputKind: "SSML",
        inputs: [{ content: ssml("Short test sentence.") }],
        properties: { outputFormat: "raw-16khz-16bit-mono-pcm" },
      });
      const raw = files.get("0001.pcm") as Buffer;
      expect(Math.abs(raw.length / 32 - (job.properties.durationInMilliseconds as number))).toBeLessThan(5);
    });

    it("concatenateResult writes one audio file for all inputs", async () => {
      const { job, files } = await runJob(emulator, "concat-job", {
        inputKind: "SSML",
        inputs: [{ content: ssml("First part.") }, { content: ssml("Second part.") }],
        properties: { concatenateResult: true, wordBoundaryEnabled: true },
      });
      expect([...files.keys()].filter((n) => n.endsWith(".wav"))).toEqual(["0001.wav"]);
      expect(job.properties.succeededAudioCount).toBe(2);
      const summary = JSON.parse((files.get("summary.json") as Buffer).toString());
      expect(summary.results).toHaveLength(1);
      expect(summary.results[0].contents).toHaveLength(2);
      const words = JSON.parse((files.get("0001.word.json") as Buffer).toString()) as { Text: string }[];
      expect(words.map((w) => w.Text)).toEqual(["First", "part", ".", "Second", "part", "."]);
    });
  });
}

describe("Speech emulator audio: unsupported families and scale", () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("answers AMR/SILK formats with 400 (it cannot render them; Opus needs ffmpeg with libopus)", async () => {
    for (const outputFormat of [
      ...(hasLibopus() ? [] : ["ogg-24khz-16bit-mono-opus"]),
      "amr-wb-16000hz",
      "raw-24khz-16bit-mono-truesilk",
    ]) {
      const response = await client(emulator).put("opus-job", {
        inputKind: "SSML",
        inputs: [{ content: ssml("Hi.") }],
        properties: { outputFormat },
      });
      expect(response.status).toBe(400);
      await response.arrayBuffer();
    }
  });

  it("a 1,000-input MP3 job completes quickly on the fast path and every file is valid", async () => {
    const inputs = Array.from({ length: 1000 }, (_, i) => ({ content: `Chapter ${i + 1}. The end.` }));
    const { job, files } = await runJob(emulator, "thousand-inputs", {
      inputKind: "PlainText",
      synthesisConfig: { voice: "en-US-JennyNeural" },
      inputs,
      properties: { outputFormat: "audio-24khz-48kbitrate-mono-mp3", wordBoundaryEnabled: true },
    });
    expect(job.properties.succeededAudioCount).toBe(1000);
    expect(files.has("1000.mp3")).toBe(true);
    const scan = scanMp3(files.get("0500.mp3") as Buffer);
    expect(scan.frames * 144).toBe((files.get("0500.mp3") as Buffer).length);
    const summary = JSON.parse((files.get("summary.json") as Buffer).toString());
    expect(summary.results).toHaveLength(1000);
    const total = summary.results.reduce(
      (sum: number, r: { properties: { sizeInBytes: string } }) => sum + Number(r.properties.sizeInBytes),
      0,
    );
    expect(total).toBe(job.properties.sizeInBytes);
  });
});

describe("Speech emulator: expiring result URLs", () => {
  it("an expired URL gets 403 AuthenticationFailed; a re-GET of the job gives a fresh one", async () => {
    const clock = new ManualClock(Date.now());
    const emulator = await startTestEmulator({ clock, timeScale: 1, resultUrlTtlSeconds: 60 });
    try {
      expect(
        (
          await client(emulator).put("expiring", {
            inputKind: "SSML",
            inputs: [{ content: ssml("Hi there.") }],
          })
        ).status,
      ).toBe(201);
      const job = await waitFor(async () => {
        clock.advance(1_000);
        const current = (await (await client(emulator).get("expiring")).json()) as Job;
        return current.status === "Succeeded" ? current : undefined;
      });
      const stale = job.outputs?.result as string;
      expect((await fetch(stale)).status).toBe(200);
      clock.advance(61_000);
      const expired = await fetch(stale);
      expect(expired.status).toBe(403);
      expect(expired.headers.get("x-ms-error-code")).toBe("AuthenticationFailed");
      expect(await expired.text()).toContain("<Code>AuthenticationFailed</Code>");
      const fresh = ((await (await client(emulator).get("expiring")).json()) as Job).outputs
        ?.result as string;
      expect(fresh).not.toBe(stale);
      expect((await fetch(fresh)).status).toBe(200);
      const tampered = fresh.replace(/sig=[^&]+/, "sig=AAAA");
      expect((await fetch(tampered)).status).toBe(403);
    } finally {
      await emulator.stop();
    }
  });
});
