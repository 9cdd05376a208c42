import { execFile, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { open, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { OutputFormatInfo } from "../../../src/speech/formats.js";
import { escapeXml } from "../../../src/text/ssml.js";
import { PAUSE_MARKER, planSpeech, type SpeechPlan, scalePlan, shiftPlan, slowPlan } from "../text.js";
import {
  AudioTooLongError,
  mp3FrameLayout,
  pcm16ToG711,
  RIFF_MAX_DATA_BYTES,
  scanMp3,
  silentMp3Frame,
  WAVE_FORMAT_ALAW,
  WAVE_FORMAT_MULAW,
  WAVE_FORMAT_PCM,
  waveHeader,
} from "./codecs.js";
import { detectAudioTools, espeakVoiceFor } from "./tools.js";

/**
 * Audio the emulator can produce: the RIFF/PCM family (PCM, A-law, µ-law; RIFF or raw) and MP3.
 * Opus (ogg/webm), AMR and SILK are answered with 400 (see docs/emulator.md).
 */
export function emulatorSupportsFormat(format: OutputFormatInfo): boolean {
  if (format.codec === "mp3") return true;
  if (format.codec === "opus") return hasLibopus();
  return (
    (format.container === "riff" || format.container === "raw") &&
    ["pcm", "alaw", "mulaw"].includes(format.codec)
  );
}

export interface SpeechSegment {
  text: string;
  language: string;
}

export interface RenderedAudio {
  sizeInBytes: number;
  durationMs: number;
  /** One plan per segment, on the output's timeline. */
  plans: SpeechPlan[];
  engine: string;
}

const CHUNK_SAMPLES = 24_000;

/**
 * A file output whose errors (e.g. the job's directory deleted mid-render) surface as rejections of the
 * next write or of close(), never as an unhandled 'error' event.
 */
function openOutput(path: string): WriteStream {
  const out = createWriteStream(path);
  out.on("error", () => {});
  return out;
}

async function writeTo(out: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  const stream = out as Writable;
  if (stream.errored) throw stream.errored;
  if (!stream.write(chunk)) await once(stream, "drain");
}

async function closeOutput(out: NodeJS.WritableStream): Promise<void> {
  const stream = out as Writable;
  if (stream.errored) throw stream.errored;
  stream.end();
  await finished(stream);
}
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Plays a plan as a voiced buzz per word (a clean signal that shows the word rhythm). */
async function writeSyntheticPcm(
  plan: SpeechPlan,
  sampleRate: number,
  out: NodeJS.WritableStream,
): Promise<number> {
  const total = Math.round((plan.totalMs * sampleRate) / 1000);
  const words = plan.tokens
    .filter((t) => t.kind === "word")
    .map((t, i) => ({
      start: Math.round((t.offsetMs * sampleRate) / 1000),
      end: Math.round(((t.offsetMs + t.durationMs) * sampleRate) / 1000),
      f0: 105 + ((i * 37) % 55),
    }));
  const ramp = Math.round(sampleRate * 0.008);
  let w = 0;
  for (let start = 0; start < total; start += CHUNK_SAMPLES) {
    const end = Math.min(total, start + CHUNK_SAMPLES);
    const chunk = Buffer.alloc((end - start) * 2);
    for (let s = start; s < end; s++) {
      while (w < words.length && (words[w]?.end ?? 0) <= s) w++;
      const word = words[w];
      let value = 0;
      if (word && s >= word.start) {
        const t = s / sampleRate;
        const env = Math.min(1, (s - word.start) / ramp, (word.end - s) / ramp);
        const phase = 2 * Math.PI * word.f0 * t;
        value =
          env * 9000 * (0.55 * Math.sin(phase) + 0.3 * Math.sin(2 * phase) + 0.15 * Math.sin(3 * phase));
      }
      chunk.writeInt16LE(Math.round(value), (s - start) * 2);
    }
    await writeTo(out, chunk);
    await yieldToLoop();
  }
  return total;
}

function runToCompletion(command: string, args: string[], input?: string | Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [input === undefined ? "ignore" : "pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr.slice(0, 300)}`)),
    );
    // A child that exits early closes its stdin (EPIPE): its exit code reports the failure.
    child.stdin?.on("error", () => {});
    if (typeof input === "string") child.stdin?.end(input);
    else if (input && child.stdin) input.pipe(child.stdin);
  });
}

/** Linear resampling of 16-bit PCM (only when sox is missing). */
function resampleLinear(pcm: Buffer, from: number, to: number): Buffer {
  const inSamples = pcm.length >> 1;
  const outSamples = Math.floor((inSamples * to) / from);
  const out = Buffer.alloc(outSamples * 2);
  for (let i = 0; i < outSamples; i++) {
    const pos = (i * from) / to;
    const i0 = Math.floor(pos);
    const frac = pos - i0;
    const a = i0 < inSamples ? pcm.readInt16LE(i0 * 2) : 0;
    const b = i0 + 1 < inSamples ? pcm.readInt16LE((i0 + 1) * 2) : a;
    out.writeInt16LE(Math.round(a + (b - a) * frac), i * 2);
  }
  return out;
}

/** Duration of a canonical WAV file espeak-ng wrote (44-byte header, 16-bit mono). */
async function wavDurationMs(path: string): Promise<{ ms: number; rate: number }> {
  const handle = await open(path, "r");
  try {
    const header = Buffer.alloc(44);
    await handle.read(header, 0, 44, 0);
    const rate = header.readUInt32LE(24) || 22_050;
    const bytes = Math.max(0, (await handle.stat()).size - 44);
    return { ms: (bytes / 2 / rate) * 1000, rate };
  } finally {
    await handle.close();
  }
}

/** Runs espeak-ng on a segment; SSML `<break>` pauses are multiplied by `pauseScale`, or left out. */
async function espeakToWav(text: string, voice: string, wav: string, pauseScale: number | undefined) {
  const hasPauses = pauseScale !== undefined && PAUSE_MARKER.test(text);
  PAUSE_MARKER.lastIndex = 0;
  const input = hasPauses
    ? escapeXml(text).replace(
        PAUSE_MARKER,
        (_, ms: string) => `<break time="${Math.round(Number(ms) * pauseScale)}ms"/>`,
      )
    : text.replace(PAUSE_MARKER, " ");
  const args = ["-v", voice, "-s", "150", "--stdin", "-w", wav, ...(hasPauses ? ["-m"] : [])];
  await runToCompletion("espeak-ng", args, input);
}

/**
 * Real speech: espeak-ng, time-stretched (sox `tempo`, pitch kept) to the timing model's length, so it runs
 * at ~150 words a minute whatever espeak-ng's own pace (which is 200–400 on some texts), then resampled.
 * Pauses from SSML `<break>` keep their length: espeak-ng's pace is measured without them first, and the
 * pauses it gets are pre-scaled by the stretch. Without sox, a linear resample stretches (pitch moves).
 */
async function writeEspeakPcm(
  segment: SpeechSegment,
  plan: SpeechPlan,
  sampleRate: number,
  tempBase: string,
  out: NodeJS.WritableStream,
): Promise<number> {
  const tools = await detectAudioTools();
  const wav = `${tempBase}.espeak.wav`;
  const raw = `${tempBase}.espeak.raw`;
  try {
    const voice = espeakVoiceFor(segment.language, tools.espeakLanguages);
    let pausesMs = 0;
    for (const match of segment.text.matchAll(PAUSE_MARKER)) pausesMs += Number(match[1]);
    await espeakToWav(segment.text, voice, wav, undefined);
    const spokenMs = (await wavDurationMs(wav)).ms;
    const plannedSpeechMs = Math.max(1, plan.totalMs - pausesMs);
    // tempo > 1 speeds up; bounded so a degenerate espeak-ng run cannot explode the length.
    const tempo = Math.min(4, Math.max(0.25, spokenMs / plannedSpeechMs));
    if (pausesMs > 0) await espeakToWav(segment.text, voice, wav, tempo);
    if (tools.sox) {
      const stretch = Math.abs(tempo - 1) > 0.01 ? ["tempo", "-s", tempo.toFixed(4)] : [];
      await runToCompletion("sox", [
        "-q",
        wav,
        "-t",
        "raw",
        "-r",
        String(sampleRate),
        "-e",
        "signed-integer",
        "-b",
        "16",
        "-c",
        "1",
        raw,
        ...stretch,
      ]);
    } else {
      const data = await readFile(wav);
      const rate = data.readUInt32LE(24);
      const pcm = resampleLinear(data.subarray(44), rate * tempo, sampleRate);
      await writeFile(raw, pcm);
    }
    const bytes = (await stat(raw)).size;
    for await (const chunk of createReadStream(raw)) {
      await writeTo(out, chunk);
    }
    return bytes >> 1;
  } finally {
    await rm(wav, { force: true });
    await rm(raw, { force: true });
  }
}

/** lame arguments to encode raw 16-bit little-endian mono PCM of `format` from stdin at a constant bit rate. */
function lameRawPcmArgs(format: OutputFormatInfo, output: string, extra: string[] = []): string[] {
  return [
    "--quiet",
    "-r",
    "-s",
    String(format.sampleRate / 1000),
    "--bitwidth",
    "16",
    "--signed",
    "--little-endian",
    "-m",
    "m",
    "--cbr",
    "-b",
    String(format.kbps ?? 48),
    ...extra,
    "-t",
    "-",
    output,
  ];
}

async function encodeMp3(pcmPath: string, outPath: string, format: OutputFormatInfo): Promise<string> {
  const tools = await detectAudioTools();
  const kbps = format.kbps ?? 48;
  if (tools.lame) {
    await runToCompletion(
      "lame",
      lameRawPcmArgs(format, outPath),
      // Fed through stdin: lame's libsndfile file input sometimes stopped early under concurrency.
      createReadStream(pcmPath),
    );
    return "lame";
  }
  const { Mp3Encoder } = await import("@breezystack/lamejs");
  const encoder = new Mp3Encoder(1, format.sampleRate, kbps);
  const out = openOutput(outPath);
  for await (const chunk of createReadStream(pcmPath, { highWaterMark: 1152 * 2 * 64 })) {
    const buf = chunk as Buffer;
    const samples = new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
    const encoded = encoder.encodeBuffer(Int16Array.from(samples));
    if (encoded.length > 0) await writeTo(out, Buffer.from(encoded));
    await yieldToLoop();
  }
  await writeTo(out, Buffer.from(encoder.flush()));
  await closeOutput(out);
  return "lamejs";
}

let libopus: boolean | undefined;
/** Ogg/WebM Opus output needs ffmpeg with libopus (checked once); without it those formats are refused. */
export function hasLibopus(): boolean {
  if (libopus === undefined) {
    try {
      libopus = /\blibopus\b/.test(
        execFileSync("ffmpeg", ["-hide_banner", "-encoders"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        }),
      );
    } catch {
      libopus = false;
    }
  }
  return libopus;
}

/** Whether a format must go through a real encoder (no fast path generates its container). */
export function needsRealEncoder(format: OutputFormatInfo): boolean {
  return format.codec === "opus";
}

/**
 * Opus in the container the format names: Ogg pages (`ogg-*`, and `audio-*-opus`, "Opus in Ogg"), or WebM
 * (`webm-*`), encoded by ffmpeg's libopus at the format's bit rate (24 kbit/s when it names none).
 */
async function encodeOpus(pcmPath: string, outPath: string, format: OutputFormatInfo): Promise<string> {
  const container = format.container === "webm" ? "webm" : "ogg";
  await new Promise<void>((resolve, reject) => {
    execFile(
      "ffmpeg",
      [
        ...["-hide_banner", "-loglevel", "error", "-y"],
        ...["-f", "s16le", "-ar", String(format.sampleRate), "-ac", "1", "-i", pcmPath],
        ...["-c:a", "libopus", "-b:a", `${format.kbps ?? 24}k`, "-f", container, outPath],
      ],
      (error) => (error ? reject(error) : resolve()),
    );
  });
  return "ffmpeg-libopus";
}

async function encodeFromPcm(
  pcmPath: string,
  outPath: string,
  format: OutputFormatInfo,
  samples: number,
): Promise<string> {
  if (format.codec === "mp3") return encodeMp3(pcmPath, outPath, format);
  if (format.codec === "opus") return encodeOpus(pcmPath, outPath, format);
  const law = format.codec === "alaw" || format.codec === "mulaw" ? format.codec : undefined;
  const bytesPerSample = law ? 1 : 2;
  const out = openOutput(outPath);
  if (format.container === "riff") {
    const formatTag =
      law === "alaw" ? WAVE_FORMAT_ALAW : law === "mulaw" ? WAVE_FORMAT_MULAW : WAVE_FORMAT_PCM;
    out.write(
      waveHeader({
        sampleRate: format.sampleRate,
        bitsPerSample: bytesPerSample * 8,
        formatTag,
        dataBytes: samples * bytesPerSample,
      }),
    );
  }
  for await (const chunk of createReadStream(pcmPath)) {
    const data = law ? pcm16ToG711(chunk as Buffer, law) : (chunk as Buffer);
    await writeTo(out, data);
  }
  await closeOutput(out);
  return "pcm";
}

/**
 * Renders segments (one per input, several when results are concatenated) into one audio file of the
 * requested format. PCM goes through a temporary file, so memory stays flat for any text length.
 */
export async function renderToFile(
  segments: SpeechSegment[],
  format: OutputFormatInfo,
  mode: "speech" | "synthetic",
  outPath: string,
  options: { maxDurationMs?: number; slowdown?: number } = {},
): Promise<RenderedAudio> {
  const tools = await detectAudioTools();
  const useEspeak = mode === "speech" && tools.espeak;
  const pcmPath = `${outPath}.pcm16`;
  const pcmOut = openOutput(pcmPath);
  const plans: SpeechPlan[] = [];
  let samples = 0;
  try {
    for (const [i, segment] of segments.entries()) {
      const offsetMs = (samples * 1000) / format.sampleRate;
      const plan = slowPlan(planSpeech(segment.text), options.slowdown ?? 1);
      let written: number;
      if (useEspeak && plan.tokens.length > 0) {
        written = await writeEspeakPcm(segment, plan, format.sampleRate, `${outPath}.${i}`, pcmOut);
        plans.push(shiftPlan(scalePlan(plan, (written * 1000) / format.sampleRate), offsetMs));
      } else {
        written = await writeSyntheticPcm(plan, format.sampleRate, pcmOut);
        plans.push(shiftPlan(plan, offsetMs));
      }
      samples += written;
    }
    await closeOutput(pcmOut);
    if (options.maxDurationMs !== undefined) {
      const cap = Math.floor((options.maxDurationMs * format.sampleRate) / 1000);
      if (samples > cap) {
        await truncate(pcmPath, cap * 2);
        samples = cap;
      }
    }
    const encoder = await encodeFromPcm(pcmPath, outPath, format, samples);
    const sizeInBytes = (await stat(outPath)).size;
    let durationMs = (samples * 1000) / format.sampleRate;
    if (format.codec === "mp3") {
      const scan = scanMp3(await readFile(outPath));
      if (scan.sampleRate > 0) durationMs = (scan.samples * 1000) / scan.sampleRate;
    }
    const maxMs = options.maxDurationMs;
    const clipped = maxMs === undefined ? plans : plans.map((p) => clipPlan(p, maxMs));
    return {
      sizeInBytes,
      durationMs: Math.round(durationMs),
      plans: clipped,
      engine: `${useEspeak ? "espeak-ng" : "synthetic"}+${encoder}`,
    };
  } finally {
    pcmOut.destroy();
    await rm(pcmPath, { force: true });
  }
}

function clipPlan(plan: SpeechPlan, maxMs: number): SpeechPlan {
  return {
    tokens: plan.tokens.filter((t) => t.offsetMs < maxMs),
    sentences: plan.sentences.filter((s) => s.AudioOffset < maxMs),
    totalMs: Math.min(plan.totalMs, maxMs),
  };
}

/** The fast path: audio whose size and duration are computed, and whose bytes are generated on read. */
export interface FastAudio {
  sizeInBytes: number;
  durationMs: number;
  open(): Readable;
}

const pcmBlocks = new Map<string, Promise<Buffer>>();
const mp3Blocks = new Map<string, Promise<Buffer>>();

/** One second of the synthetic voice pattern, encoded for the format (PCM family). */
function pcmBlock(format: OutputFormatInfo): Promise<Buffer> {
  let block = pcmBlocks.get(format.name);
  if (!block) {
    block = (async () => {
      const chunks: Buffer[] = [];
      const sink = {
        write(chunk: Buffer) {
          chunks.push(chunk);
          return true;
        },
      } as unknown as NodeJS.WritableStream;
      await writeSyntheticPcm(planSpeech("Emulated speech audio."), format.sampleRate, sink);
      const pcm = Buffer.concat(chunks).subarray(0, format.sampleRate * 2);
      const padded = Buffer.concat([pcm, Buffer.alloc(format.sampleRate * 2 - pcm.length)]);
      return format.codec === "alaw" || format.codec === "mulaw" ? pcm16ToG711(padded, format.codec) : padded;
    })();
    pcmBlocks.set(format.name, block);
  }
  return block;
}

/**
 * Self-contained MP3 frames of a tone (lame --nores: no bit reservoir, so frames can be repeated),
 * or silent frames when lame is missing.
 */
function mp3Block(format: OutputFormatInfo): Promise<Buffer> {
  let block = mp3Blocks.get(format.name);
  if (!block) {
    block = (async () => {
      const layout = mp3FrameLayout(format.sampleRate, format.kbps ?? 48);
      const tools = await detectAudioTools();
      if (tools.lame) {
        try {
          const frames = await encodeToneFrames(format, layout.samplesPerFrame);
          if (frames) return frames;
        } catch {
          // fall through to silence
        }
      }
      return silentMp3Frame(layout);
    })();
    mp3Blocks.set(format.name, block);
  }
  return block;
}

async function encodeToneFrames(
  format: OutputFormatInfo,
  samplesPerFrame: number,
): Promise<Buffer | undefined> {
  const layout = mp3FrameLayout(format.sampleRate, format.kbps ?? 48);
  const frameCount = 48;
  const pcm = Buffer.alloc(frameCount * samplesPerFrame * 2);
  for (let s = 0; s < frameCount * samplesPerFrame; s++) {
    const t = s / format.sampleRate;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 2.5 * t);
    pcm.writeInt16LE(Math.round(env * 8000 * Math.sin(2 * Math.PI * 140 * t)), s * 2);
  }
  const encoded = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const child = spawn("lame", lameRawPcmArgs(format, "-", ["--nores"]), {
      stdio: ["pipe", "pipe", "ignore"],
    });
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`lame ${code}`)),
    );
    child.stdin.on("error", () => {});
    child.stdin.end(pcm);
  });
  // Keep whole frames from the middle (past the encoder's start-up), all of the CBR frame size.
  const start = 4 * layout.frameBytes;
  const count = 32;
  const frames = encoded.subarray(start, start + count * layout.frameBytes);
  const scan = scanMp3(frames);
  return scan.frames === count && frames[0] === 0xff ? Buffer.from(frames) : undefined;
}

export function fastAudio(format: OutputFormatInfo, plannedMs: number): FastAudio {
  if (format.codec === "mp3") {
    const layout = mp3FrameLayout(format.sampleRate, format.kbps ?? 48);
    const frames = Math.max(1, Math.ceil((plannedMs * format.sampleRate) / 1000 / layout.samplesPerFrame));
    const sizeInBytes = frames * layout.frameBytes;
    return {
      sizeInBytes,
      durationMs: Math.round((frames * layout.samplesPerFrame * 1000) / format.sampleRate),
      open: () => Readable.from(repeatBytes(() => mp3Block(format), sizeInBytes)),
    };
  }
  const bytesPerSample = format.codec === "alaw" || format.codec === "mulaw" ? 1 : 2;
  const samples = Math.max(1, Math.round((plannedMs * format.sampleRate) / 1000));
  const dataBytes = samples * bytesPerSample;
  const header =
    format.container === "riff"
      ? waveHeader({
          sampleRate: format.sampleRate,
          bitsPerSample: bytesPerSample * 8,
          formatTag:
            format.codec === "alaw"
              ? WAVE_FORMAT_ALAW
              : format.codec === "mulaw"
                ? WAVE_FORMAT_MULAW
                : WAVE_FORMAT_PCM,
          dataBytes,
        })
      : Buffer.alloc(0);
  return {
    sizeInBytes: header.length + dataBytes,
    durationMs: Math.round((samples * 1000) / format.sampleRate),
    open: () =>
      Readable.from(
        (async function* () {
          if (header.length > 0) yield header;
          yield* repeatBytes(() => pcmBlock(format), dataBytes);
        })(),
      ),
  };
}

async function* repeatBytes(block: () => Promise<Buffer>, total: number): AsyncGenerator<Buffer> {
  const unit = await block();
  // Batch small units (one MP3 frame) into ~64 KB writes.
  const repeat = Math.max(1, Math.floor(65_536 / unit.length));
  const batch = Buffer.concat(Array.from({ length: repeat }, () => unit));
  let remaining = total;
  while (remaining > 0) {
    const n = Math.min(remaining, batch.length);
    yield n === batch.length ? batch : batch.subarray(0, n);
    remaining -= n;
  }
}

/** Fails early (before any rendering) when a RIFF output of this length would pass the 4 GB limit. */
export function checkRiffLength(format: OutputFormatInfo, plannedMs: number): void {
  if (format.container !== "riff") return;
  const bytesPerSample = format.codec === "alaw" || format.codec === "mulaw" ? 1 : 2;
  const dataBytes = Math.round((plannedMs * format.sampleRate) / 1000) * bytesPerSample;
  if (dataBytes > RIFF_MAX_DATA_BYTES)
    throw new AudioTooLongError(dataBytes, format.sampleRate, bytesPerSample);
}

/** Estimated audio length of a text (for choosing the fast path and planning). */
export function estimateDurationMs(text: string): number {
  return planSpeech(text).totalMs;
}
