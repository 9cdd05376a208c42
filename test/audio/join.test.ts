import { describe, expect, it } from "vitest";
import {
  joinAudio,
  measureDurationMs,
  mp3Frames,
  parseWav,
  readMp3FrameHeader,
} from "../../src/audio/index.js";
import { getOutputFormat } from "../../src/speech/formats.js";
import { decodeMp3WithLame } from "../support/lame.js";
import { sineMp3, sineWav } from "./fixtures.js";

const MP3 = getOutputFormat("audio-24khz-96kbitrate-mono-mp3");
const WAV = getOutputFormat("riff-24khz-16bit-mono-pcm");
const RAW = getOutputFormat("raw-16khz-16bit-mono-pcm");

describe("WAV", () => {
  it("measures duration from the header and data length", () => {
    expect(measureDurationMs(sineWav(24000, 1500), WAV)).toBe(1500);
  });

  it("joins parts under one correct header; durations add up", () => {
    const parts = [sineWav(24000, 1000), sineWav(24000, 250, 660), sineWav(24000, 2000, 880)];
    const joined = joinAudio(parts, WAV);
    const info = parseWav(joined);
    expect(joined.toString("ascii", 0, 4)).toBe("RIFF");
    expect(joined.readUInt32LE(4)).toBe(joined.length - 8);
    expect(info.dataLength).toBe(parts.reduce((n, p) => n + parseWav(p).dataLength, 0));
    expect(joined.indexOf("RIFF", 4)).toBe(-1); // no second header inside the data
    expect(measureDurationMs(joined, WAV)).toBe(3250);
  });

  it("reads streamed WAV headers whose data size is unknown", () => {
    const wav = sineWav(24000, 500);
    wav.writeUInt32LE(0xffffffff, 40);
    expect(measureDurationMs(wav, WAV)).toBe(500);
  });
});

describe("raw PCM", () => {
  it("concatenates and measures from the byte count", () => {
    const a = Buffer.alloc(32000);
    const b = Buffer.alloc(16000);
    const joined = joinAudio([a, b], RAW);
    expect(joined.length).toBe(48000);
    expect(measureDurationMs(joined, RAW)).toBe(1500);
  });
});

describe("MP3", () => {
  it("walks the frames of a real MP3, skipping ID3 and the Xing/Info frame", () => {
    const mp3 = sineMp3(24000, 96, 2000, { id3: true });
    const first = [...mp3Frames(mp3)][0];
    expect(first && readMp3FrameHeader(mp3, first.offset)).toMatchObject({
      sampleRate: 24000,
      bitrateKbps: 96,
      samples: 576,
    });
    // LAME pads start and end by up to ~2 frames; within 100 ms of the PCM length.
    expect(Math.abs(measureDurationMs(mp3, MP3) - 2000)).toBeLessThan(100);
  });

  it("joins parts by concatenating frames: one ID3 tag at most, durations add up, decodes", () => {
    const parts = [
      sineMp3(24000, 96, 1000, { id3: true }),
      sineMp3(24000, 96, 1500, { id3: true }),
      sineMp3(24000, 96, 500),
    ];
    const joined = joinAudio(parts, MP3);
    const sum = parts.reduce((n, p) => n + measureDurationMs(p, MP3), 0);
    expect(measureDurationMs(joined, MP3)).toBeCloseTo(sum, 6);
    expect(joined.indexOf("ID3", 3)).toBe(-1);
    expect(joined.indexOf("Xing")).toBe(-1);
    expect(joined.indexOf("Info")).toBe(-1);
    // Every byte after the tag is an audio frame.
    const frames = [...mp3Frames(joined)];
    const tag = frames[0]?.offset ?? 0;
    expect(frames.reduce((n, f) => n + f.header.length, tag)).toBe(joined.length);

    const decoded = decodeMp3WithLame(joined);
    if (decoded) {
      const pcm = parseWav(decoded);
      const decodedMs = (pcm.dataLength / pcm.byteRate) * 1000;
      expect(Math.abs(decodedMs - sum)).toBeLessThan(150);
    }
  });

  it("resynchronises over garbage between frames", () => {
    const mp3 = sineMp3(24000, 96, 1000);
    const withJunk = Buffer.concat([mp3.subarray(0, 2000), Buffer.from("garbage!"), mp3.subarray(2000)]);
    expect(measureDurationMs(withJunk, MP3)).toBeGreaterThan(measureDurationMs(mp3, MP3) - 100);
  });

  it("refuses formats it cannot join", () => {
    expect(() =>
      joinAudio([Buffer.alloc(1), Buffer.alloc(1)], getOutputFormat("ogg-24khz-16bit-mono-opus")),
    ).toThrow(RangeError);
  });
});
