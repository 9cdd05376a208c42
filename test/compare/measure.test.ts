import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureAudio, parseSilences, silenceShares } from "../../src/compare/measure.js";
import { judgeChapter, parseThresholds, wordTiming } from "../../src/compare/verdict.js";
import { getOutputFormat } from "../../src/speech/formats.js";

/**
 * compare's measurements on audio with known properties, made by sox and lame: 1 s of silence, 2 s of tone,
 * 1 s of silence, 2 s of tone, 0.5 s of silence; and the same 10 dB quieter. Measured by the real ffmpeg.
 */
const run = promisify(execFile);
const format = getOutputFormat("audio-24khz-96kbitrate-mono-mp3");
const silence = { noiseDb: -50, minSeconds: 0.3 };
let dir: string;
let normal: string;
let quieter: string;

async function makeMp3(path: string, gainDb: number): Promise<void> {
  const part = (name: string, seconds: number, frequency: number) =>
    run("sox", [
      "-n",
      "-r",
      "24000",
      "-c",
      "1",
      "-b",
      "16",
      `${path}.${name}.wav`,
      "synth",
      String(seconds),
      "sine",
      String(frequency),
      "vol",
      frequency ? "0.5" : "0",
    ]);
  await Promise.all([part("s1", 1, 0), part("tone", 2, 440), part("s05", 0.5, 0)]);
  const wav = `${path}.wav`;
  const [s1, tone, s05] = ["s1", "tone", "s05"].map((n) => `${path}.${n}.wav`) as [string, string, string];
  await run("sox", [s1, tone, s1, tone, s05, wav, "gain", String(gainDb)]);
  await run("lame", ["--quiet", "-b", "96", "--cbr", "-m", "m", wav, path]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tts-measure-"));
  normal = join(dir, "normal.mp3");
  quieter = join(dir, "quieter.mp3");
  await Promise.all([makeMp3(normal, 0), makeMp3(quieter, -10)]);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("compare measurements (ffprobe, ebur128, silencedetect)", () => {
  it("reads format, duration, loudness and the three kinds of silence", async () => {
    const m = await measureAudio(normal, format, silence);
    expect(m).toMatchObject({ codec: "mp3", sampleRate: 24000, channels: 1, bitRate: 96000 });
    expect(m.durationSeconds).toBeGreaterThan(6.4);
    expect(m.durationSeconds).toBeLessThan(6.7);
    expect(m.integratedLufs).not.toBeNull();
    expect(m.silence.leadingSeconds).toBeCloseTo(1, 1);
    expect(m.silence.insideSeconds).toBeCloseTo(1, 1);
    expect(m.silence.trailingSeconds).toBeGreaterThan(0.4);
    expect(m.silence.trailingSeconds).toBeLessThan(0.7);
  });

  it("a 10 dB quieter rendition fails the loudness check, and only it", async () => {
    const [a, b] = await Promise.all([
      measureAudio(normal, format, silence),
      measureAudio(quieter, format, silence),
    ]);
    expect((b.integratedLufs ?? 0) - (a.integratedLufs ?? 0)).toBeCloseTo(-10, 0);
    const thresholds = parseThresholds({});
    const judged = judgeChapter(b, a, null, thresholds);
    expect(judged.pass).toBe(false);
    expect(judged.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["loudness"]);
    expect(judgeChapter(a, a, null, thresholds).pass).toBe(true);
  });

  it("silence log parsing: an unterminated stretch runs to the end", () => {
    const log = "silence_start: 0\nsilence_end: 1.2 | silence_duration: 1.2\nsilence_start: 3.5\n";
    const stretches = parseSilences(log, 4);
    expect(stretches).toEqual([
      { start: 0, end: 1.2 },
      { start: 3.5, end: 4 },
    ]);
    expect(silenceShares(stretches, 4)).toMatchObject({
      leadingShare: 0.3,
      trailingShare: 0.125,
      insideShare: 0,
    });
  });

  it("word timing: coverage against the planner's word count, offsets that go back are caught", () => {
    const words = [
      { text: "One", offsetMs: 0, durationMs: 300 },
      { text: "two", offsetMs: 400, durationMs: 300 },
      { text: ",", offsetMs: 700, durationMs: 0 },
      { text: "three", offsetMs: 350, durationMs: 300 },
    ];
    expect(wordTiming("One two, three four.", "text", words, 2)).toEqual({
      wordsInText: 4,
      wordsTimed: 3,
      coverage: 0.75,
      monotonic: false,
    });
  });

  it("thresholds come from COMPARE_* settings, with a clear error for a bad value", () => {
    expect(parseThresholds({ COMPARE_MAX_LOUDNESS_DIFF_LU: "0.5" }).COMPARE_MAX_LOUDNESS_DIFF_LU).toBe(0.5);
    expect(() => parseThresholds({ COMPARE_MIN_WORD_COVERAGE: "2" })).toThrow(/COMPARE_MIN_WORD_COVERAGE/);
  });
});
