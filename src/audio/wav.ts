/** RIFF/WAVE framing: the canonical header, locating the data chunk, and its PCM parameters. */

export interface WavInfo {
  /** Raw `fmt ` chunk body (16 bytes for PCM, more for other codecs), copied as-is into joined files. */
  fmt: Buffer;
  audioFormat: number;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
  /** Offset and length of the sample data in the buffer. */
  dataOffset: number;
  dataLength: number;
}

/** Parses a RIFF/WAVE buffer; a data size of 0 or 0xFFFFFFFF (streamed WAV) means "to the end". */
export function parseWav(buffer: Buffer): WavInfo {
  if (
    buffer.length < 12 ||
    buffer.toString("ascii", 0, 4) !== "RIFF" ||
    buffer.toString("ascii", 8, 12) !== "WAVE"
  ) {
    throw new RangeError("Not a RIFF/WAVE file.");
  }
  let offset = 12;
  let fmt: Buffer | undefined;
  while (offset + 8 <= buffer.length) {
    const id = buffer.toString("ascii", offset, offset + 4);
    const size = buffer.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === "fmt ") {
      fmt = buffer.subarray(body, body + size);
    } else if (id === "data") {
      if (!fmt || fmt.length < 16) throw new RangeError("WAV data chunk before its fmt chunk.");
      const available = buffer.length - body;
      const dataLength = size === 0 || size === 0xffffffff || size > available ? available : size;
      return {
        fmt: Buffer.from(fmt),
        audioFormat: fmt.readUInt16LE(0),
        channels: fmt.readUInt16LE(2),
        sampleRate: fmt.readUInt32LE(4),
        byteRate: fmt.readUInt32LE(8),
        blockAlign: fmt.readUInt16LE(12),
        bitsPerSample: fmt.readUInt16LE(14),
        dataOffset: body,
        dataLength,
      };
    }
    // Chunks are word-aligned: an odd size is followed by one pad byte.
    offset = body + size + (size % 2);
  }
  throw new RangeError("WAV file without a data chunk.");
}

/** A RIFF/WAVE header for `dataLength` bytes of samples described by `fmt`. */
export function wavHeader(fmt: Buffer, dataLength: number): Buffer {
  const fmtPadded = fmt.length % 2 ? Buffer.concat([fmt, Buffer.alloc(1)]) : fmt;
  const header = Buffer.alloc(12 + 8 + fmtPadded.length + 8);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(4 + 8 + fmtPadded.length + 8 + dataLength + (dataLength % 2), 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(fmt.length, 16);
  fmtPadded.copy(header, 20);
  const dataAt = 20 + fmtPadded.length;
  header.write("data", dataAt, "ascii");
  header.writeUInt32LE(dataLength, dataAt + 4);
  return header;
}

/** The 16-byte PCM `fmt ` body (format 1 = PCM, 6 = A-law, 7 = mu-law). */
export function pcmFmt(sampleRate: number, bitsPerSample: number, channels = 1, audioFormat = 1): Buffer {
  const fmt = Buffer.alloc(16);
  const blockAlign = (channels * bitsPerSample) / 8;
  fmt.writeUInt16LE(audioFormat, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(sampleRate, 4);
  fmt.writeUInt32LE(sampleRate * blockAlign, 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(bitsPerSample, 14);
  return fmt;
}
