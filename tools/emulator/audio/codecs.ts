/** Sample-level codecs and headers: RIFF/WAVE, G.711 A-law and µ-law, MPEG-1/2 Layer III frame layout. */

export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_ALAW = 6;
export const WAVE_FORMAT_MULAW = 7;

/** RIFF sizes are 32-bit: the data chunk may hold at most this many bytes (the RIFF size is data + 36). */
export const RIFF_MAX_DATA_BYTES = 0xffff_ffff - 36;

/** Audio that cannot be stored in the requested container (a RIFF/WAVE file over 4 GB). */
export class AudioTooLongError extends Error {
  constructor(dataBytes: number, sampleRate: number, bytesPerSample: number) {
    const hours = dataBytes / bytesPerSample / sampleRate / 3600;
    super(
      `The audio would last ${hours.toFixed(1)} hours (${dataBytes} bytes), more than a RIFF/WAVE file can hold ` +
        `(4 GB) at ${sampleRate} Hz; split the input or choose a raw or MP3 output format.`,
    );
    this.name = "AudioTooLongError";
  }
}

/** A canonical 44-byte RIFF/WAVE header for mono audio; throws {@link AudioTooLongError} past 4 GB. */
export function waveHeader(options: {
  sampleRate: number;
  bitsPerSample: number;
  formatTag: number;
  dataBytes: number;
}): Buffer {
  const { sampleRate, bitsPerSample, formatTag, dataBytes } = options;
  const blockAlign = bitsPerSample / 8;
  if (dataBytes > RIFF_MAX_DATA_BYTES) throw new AudioTooLongError(dataBytes, sampleRate, blockAlign);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(formatTag, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bitsPerSample, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** G.711 A-law of one 16-bit sample. */
export function linearToAlaw(sample: number): number {
  let pcm = sample >> 3; // 13-bit magnitude domain
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const segEnds = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let seg = 0;
  while (seg < 8 && pcm > (segEnds[seg] as number)) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f;
  return aval ^ mask;
}

/** G.711 µ-law of one 16-bit sample. */
export function linearToMulaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let pcm = sample;
  const sign = pcm < 0 ? 0x80 : 0;
  if (pcm < 0) pcm = -pcm;
  if (pcm > CLIP) pcm = CLIP;
  pcm += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Converts little-endian 16-bit PCM bytes to 8-bit G.711 bytes. */
export function pcm16ToG711(pcm: Buffer, law: "alaw" | "mulaw"): Buffer {
  const out = Buffer.alloc(pcm.length >> 1);
  const encode = law === "alaw" ? linearToAlaw : linearToMulaw;
  for (let i = 0; i < out.length; i++) out[i] = encode(pcm.readInt16LE(i * 2));
  return out;
}

const MPEG1_BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_BITRATES = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MPEG1_RATES = [44100, 48000, 32000];
const MPEG2_RATES = [22050, 24000, 16000];

export interface Mp3FrameLayout {
  mpeg1: boolean;
  samplesPerFrame: number;
  frameBytes: number;
  header: Buffer;
}

/** Frame layout of a CBR mono Layer III stream (no padding: every catalogue format divides evenly). */
export function mp3FrameLayout(sampleRate: number, kbps: number): Mp3FrameLayout {
  const mpeg1 = sampleRate >= 32000;
  const rateIndex = (mpeg1 ? MPEG1_RATES : MPEG2_RATES).indexOf(sampleRate);
  const bitrateIndex = (mpeg1 ? MPEG1_BITRATES : MPEG2_BITRATES).indexOf(kbps);
  if (rateIndex < 0 || bitrateIndex < 0)
    throw new RangeError(`No MP3 layout for ${sampleRate} Hz at ${kbps} kbit/s`);
  const samplesPerFrame = mpeg1 ? 1152 : 576;
  const frameBytes = Math.floor(((samplesPerFrame / 8) * kbps * 1000) / sampleRate);
  // sync(11) version(2: 11 = MPEG-1, 10 = MPEG-2) layer(2: 01 = III) protection(1: 1 = no CRC)
  const header = Buffer.from([0xff, mpeg1 ? 0xfb : 0xf3, (bitrateIndex << 4) | (rateIndex << 2), 0xc4]);
  return { mpeg1, samplesPerFrame, frameBytes, header };
}

/**
 * A valid Layer III frame that decodes to silence: all side information zero (main_data_begin 0,
 * part2_3_length 0), so it needs no bit reservoir and can be repeated any number of times.
 */
export function silentMp3Frame(layout: Mp3FrameLayout): Buffer {
  const frame = Buffer.alloc(layout.frameBytes);
  layout.header.copy(frame, 0);
  return frame;
}

/** Walks MPEG audio frames; returns frame count and samples (for duration). Skips ID3v2 and junk. */
export function scanMp3(data: Buffer): { frames: number; samples: number; sampleRate: number } {
  let offset = 0;
  if (data.length > 10 && data.toString("latin1", 0, 3) === "ID3") {
    const size = ((data[6] ?? 0) << 21) | ((data[7] ?? 0) << 14) | ((data[8] ?? 0) << 7) | (data[9] ?? 0);
    offset = 10 + size;
  }
  let frames = 0;
  let samples = 0;
  let sampleRate = 0;
  while (offset + 4 <= data.length) {
    const b1 = data[offset + 1] ?? 0;
    const b2 = data[offset + 2] ?? 0;
    if (data[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) {
      offset++;
      continue;
    }
    const versionBits = (b1 >> 3) & 3;
    const layerBits = (b1 >> 1) & 3;
    const bitrateIndex = b2 >> 4;
    const rateIndex = (b2 >> 2) & 3;
    if (
      versionBits === 1 ||
      layerBits !== 1 ||
      bitrateIndex === 0 ||
      bitrateIndex === 15 ||
      rateIndex === 3
    ) {
      offset++;
      continue;
    }
    const mpeg1 = versionBits === 3;
    const rate = (mpeg1 ? MPEG1_RATES : MPEG2_RATES)[rateIndex] ?? 0;
    const actualRate = versionBits === 0 ? rate / 2 : rate; // MPEG-2.5
    const kbps = (mpeg1 ? MPEG1_BITRATES : MPEG2_BITRATES)[bitrateIndex] ?? 0;
    const spf = mpeg1 ? 1152 : 576;
    const padding = (b2 >> 1) & 1;
    const length = Math.floor(((spf / 8) * kbps * 1000) / actualRate) + padding;
    if (length < 4) {
      offset++;
      continue;
    }
    frames++;
    samples += spf;
    sampleRate = actualRate;
    offset += length;
  }
  return { frames, samples, sampleRate };
}
