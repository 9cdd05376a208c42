import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { z } from "zod";
import type { OutputFormatInfo } from "../speech/formats.js";

/**
 * Audio measurements for `tts-pipeline compare`, all taken by FFmpeg's maintained tools rather than
 * hand-written DSP: `ffprobe` for the stream (codec, sample rate, channels, bit rate, duration), the
 * `ebur128` filter for integrated loudness (EBU R128 / ITU-R BS.1770, LUFS) and `silencedetect` for silent
 * stretches. Filters: https://ffmpeg.org/ffmpeg-filters.html#ebur128-1 and #silencedetect.
 */

const run = promisify(execFile);
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface SilenceOptions {
  /** Level below which audio counts as silence (dBFS). */
  noiseDb: number;
  /** Shortest stretch that counts (seconds); pauses between words are shorter. */
  minSeconds: number;
}

export interface SilenceShares {
  leadingSeconds: number;
  trailingSeconds: number;
  insideSeconds: number;
  /** Each as a share of the whole duration (0–1). */
  leadingShare: number;
  trailingShare: number;
  insideShare: number;
}

export interface AudioMeasurement {
  codec: string;
  sampleRate: number;
  channels: number;
  /** Bits per second, when the container states it. */
  bitRate?: number;
  durationSeconds: number;
  /** Integrated loudness; null when the audio is too short or silent to gate (ebur128 reports -70). */
  integratedLufs: number | null;
  silence: SilenceShares;
}

/** Demuxer options FFmpeg needs for headerless (raw) output formats. */
export function inputOptions(format: OutputFormatInfo): string[] {
  if (format.container !== "raw") return [];
  const demuxer = format.codec === "alaw" ? "alaw" : format.codec === "mulaw" ? "mulaw" : "s16le";
  return ["-f", demuxer, "-sample_rate", String(format.sampleRate), "-ch_layout", "mono"];
}

const probeSchema = z.object({
  streams: z
    .array(
      z.object({
        codec_name: z.string(),
        sample_rate: z.coerce.number(),
        channels: z.number(),
        bit_rate: z.coerce.number().optional(),
      }),
    )
    .min(1, "no audio stream"),
  format: z.object({ duration: z.coerce.number(), bit_rate: z.coerce.number().optional() }),
});

async function probe(path: string, format: OutputFormatInfo) {
  const { stdout } = await run(
    "ffprobe",
    [
      "-v",
      "error",
      ...inputOptions(format),
      "-select_streams",
      "a:0",
      "-show_entries",
      "stream=codec_name,sample_rate,channels,bit_rate:format=duration,bit_rate",
      "-of",
      "json",
      path,
    ],
    { maxBuffer: MAX_OUTPUT_BYTES },
  );
  const parsed = probeSchema.parse(JSON.parse(stdout));
  const stream = parsed.streams[0] as (typeof parsed.streams)[number];
  const bitRate = stream.bit_rate ?? parsed.format.bit_rate;
  return {
    codec: stream.codec_name,
    sampleRate: stream.sample_rate,
    channels: stream.channels,
    ...(bitRate && Number.isFinite(bitRate) ? { bitRate } : {}),
    durationSeconds: parsed.format.duration,
  };
}

/** Silent stretches from silencedetect's log lines; an unterminated one runs to the end. */
export function parseSilences(log: string, durationSeconds: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let open: number | undefined;
  for (const match of log.matchAll(/silence_(start|end): (-?[\d.]+)/g)) {
    const value = Number(match[2]);
    if (match[1] === "start") open = Math.max(0, value);
    else if (open !== undefined) {
      out.push({ start: open, end: Math.min(durationSeconds, value) });
      open = undefined;
    }
  }
  if (open !== undefined) out.push({ start: open, end: durationSeconds });
  return out;
}

/** Splits silences into leading (from the start), trailing (to the end) and inside. */
export function silenceShares(
  silences: { start: number; end: number }[],
  durationSeconds: number,
): SilenceShares {
  // Encoders pad the ends (an MP3 frame is 24–72 ms), so a stretch this close to an end belongs to it.
  const edge = 0.1;
  let leading = 0;
  let trailing = 0;
  let inside = 0;
  for (const { start, end } of silences) {
    const length = Math.max(0, end - start);
    if (start <= edge) leading += length;
    else if (end >= durationSeconds - edge) trailing += length;
    else inside += length;
  }
  const share = (s: number) => (durationSeconds > 0 ? s / durationSeconds : 0);
  return {
    leadingSeconds: leading,
    trailingSeconds: trailing,
    insideSeconds: inside,
    leadingShare: share(leading),
    trailingShare: share(trailing),
    insideShare: share(inside),
  };
}

/** Integrated loudness from ebur128's summary (`I: -19.6 LUFS`); null at the -70 LUFS gate floor. */
export function parseIntegratedLufs(log: string): number | null {
  const summary = log.slice(log.lastIndexOf("Integrated loudness:"));
  const match = /I:\s+(-?[\d.]+|-?inf) LUFS/.exec(summary);
  if (!match) throw new Error("ffmpeg ebur128 printed no integrated loudness.");
  const value = Number(match[1]);
  return Number.isFinite(value) && value > -70 ? value : null;
}

/** Measures one audio file of a Speech output format (ffprobe and one ffmpeg pass with both filters). */
export async function measureAudio(
  path: string,
  format: OutputFormatInfo,
  silence: SilenceOptions,
): Promise<AudioMeasurement> {
  const stream = await probe(path, format);
  const filters = `silencedetect=noise=${silence.noiseDb}dB:d=${silence.minSeconds},ebur128=framelog=verbose`;
  // ffmpeg logs filter results on stderr at info level; per-frame loudness stays at verbose (not printed).
  const { stderr } = await run(
    "ffmpeg",
    [
      "-hide_banner",
      "-nostats",
      "-nostdin",
      ...inputOptions(format),
      "-i",
      path,
      "-af",
      filters,
      "-f",
      "null",
      "-",
    ],
    { maxBuffer: MAX_OUTPUT_BYTES },
  );
  return {
    ...stream,
    integratedLufs: parseIntegratedLufs(stderr),
    silence: silenceShares(parseSilences(stderr, stream.durationSeconds), stream.durationSeconds),
  };
}

/** Whether ffmpeg and ffprobe are on the PATH (compare needs both). */
export async function ffmpegAvailable(): Promise<boolean> {
  try {
    await Promise.all([run("ffmpeg", ["-version"]), run("ffprobe", ["-version"])]);
    return true;
  } catch {
    return false;
  }
}
