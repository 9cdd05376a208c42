/** MPEG audio (MP3) framing: frame headers, ID3 tags and the Xing/Info/VBRI header frame. */

// Bit rates in kbit/s by [MPEG-1 | MPEG-2/2.5][layer III, II, I][index].
const BITRATES: Record<string, readonly number[]> = {
  "1-3": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "1-2": [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  "1-1": [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  "2-3": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  "2-2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  "2-1": [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
};
const SAMPLE_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

export interface Mp3FrameHeader {
  /** 1, 2 or 2.5 */
  version: number;
  layer: number;
  bitrateKbps: number;
  sampleRate: number;
  samples: number;
  length: number;
  channels: number;
}

/** Parses the 4-byte frame header at `offset`; undefined when there is no valid frame there. */
export function readMp3FrameHeader(buffer: Buffer, offset: number): Mp3FrameHeader | undefined {
  if (offset + 4 > buffer.length) return undefined;
  const b1 = buffer[offset + 1] ?? 0;
  const b2 = buffer[offset + 2] ?? 0;
  const b3 = buffer[offset + 3] ?? 0;
  if (buffer[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = (b2 >> 4) & 15;
  const rateIndex = (b2 >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) {
    return undefined;
  }
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = 4 - layerBits;
  const bitrateKbps = BITRATES[`${version === 1 ? 1 : 2}-${layer}`]?.[bitrateIndex] ?? 0;
  const sampleRate = SAMPLE_RATES[versionBits]?.[rateIndex] ?? 0;
  const padding = (b2 >> 1) & 1;
  const samples = layer === 1 ? 384 : layer === 3 && version !== 1 ? 576 : 1152;
  const length =
    layer === 1
      ? (Math.floor((12 * bitrateKbps * 1000) / sampleRate) + padding) * 4
      : Math.floor(((samples / 8) * bitrateKbps * 1000) / sampleRate) + padding;
  const channels = b3 >> 6 === 3 ? 1 : 2;
  return { version, layer, bitrateKbps, sampleRate, samples, length, channels };
}

/** Length of an ID3v2 tag at the start of the buffer (0 when there is none). */
export function id3v2Length(buffer: Buffer): number {
  if (buffer.length < 10 || buffer.toString("latin1", 0, 3) !== "ID3") return 0;
  const size =
    (((buffer[6] ?? 0) & 0x7f) << 21) |
    (((buffer[7] ?? 0) & 0x7f) << 14) |
    (((buffer[8] ?? 0) & 0x7f) << 7) |
    ((buffer[9] ?? 0) & 0x7f);
  const footer = (buffer[5] ?? 0) & 0x10 ? 10 : 0;
  return 10 + size + footer;
}

/** True when the frame is a Xing/Info (LAME) or VBRI header frame: metadata, not audio. */
function isInfoFrame(buffer: Buffer, offset: number, header: Mp3FrameHeader): boolean {
  const sideInfo = header.version === 1 ? (header.channels === 1 ? 17 : 32) : header.channels === 1 ? 9 : 17;
  const tagAt = offset + 4 + sideInfo;
  const tag = buffer.toString("latin1", tagAt, tagAt + 4);
  if (tag === "Xing" || tag === "Info") return true;
  return buffer.toString("latin1", offset + 36, offset + 40) === "VBRI";
}

export interface Mp3Frame {
  offset: number;
  header: Mp3FrameHeader;
}

/**
 * Walks the audio frames of an MP3 buffer, skipping a leading ID3v2 tag, the Xing/Info frame, a
 * trailing ID3v1 tag and any garbage between frames (by resynchronising on the next valid header
 * that is followed by another valid header or the end).
 */
export function* mp3Frames(buffer: Buffer): Generator<Mp3Frame> {
  let offset = id3v2Length(buffer);
  let first = true;
  while (offset + 4 <= buffer.length) {
    const header = readMp3FrameHeader(buffer, offset);
    const fits = header && header.length > 4 && offset + header.length <= buffer.length;
    const next = header && fits ? offset + header.length : -1;
    const confirmed = fits && (next + 4 > buffer.length || readMp3FrameHeader(buffer, next) !== undefined);
    if (!header || !confirmed) {
      if (buffer.toString("latin1", offset, offset + 3) === "TAG" && buffer.length - offset === 128) return;
      offset++;
      continue;
    }
    if (!(first && isInfoFrame(buffer, offset, header))) yield { offset, header };
    first = false;
    offset = next;
  }
}
