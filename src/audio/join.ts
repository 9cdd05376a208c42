import type { OutputFormatInfo } from "../speech/formats.js";
import { id3v2Length, mp3Frames } from "./mp3.js";
import { parseWav, wavHeader } from "./wav.js";

/** Formats whose parts can be joined by this module (others have container framing we don't rewrite). */
export function canJoin(format: OutputFormatInfo): boolean {
  return format.container === "riff" || format.container === "raw" || format.container === "mp3";
}

/**
 * Joins audio synthesized in parts into one playable file of the same format:
 * - MP3: the audio frames of every part in order (the first part's ID3v2 tag kept; Xing/Info header
 *   frames dropped, since their frame counts would describe one part only);
 * - RIFF (WAV): one header written for the total, followed by every part's sample data;
 * - raw PCM/A-law/mu-law: plain concatenation.
 */
export function joinAudio(parts: Buffer[], format: OutputFormatInfo): Buffer {
  if (parts.length === 1 && parts[0]) return parts[0];
  switch (format.container) {
    case "raw":
      return Buffer.concat(parts);
    case "riff": {
      if (parts.length === 0) throw new RangeError("Nothing to join.");
      const infos = parts.map(parseWav);
      const fmt = infos[0]?.fmt ?? Buffer.alloc(0);
      const data = parts.map((p, i) => {
        const info = infos[i];
        return info ? p.subarray(info.dataOffset, info.dataOffset + info.dataLength) : Buffer.alloc(0);
      });
      const total = data.reduce((n, d) => n + d.length, 0);
      return Buffer.concat([wavHeader(fmt, total), ...data, Buffer.alloc(total % 2)]);
    }
    case "mp3": {
      const out: Buffer[] = [];
      parts.forEach((part, i) => {
        if (i === 0) out.push(part.subarray(0, id3v2Length(part)));
        for (const { offset, header } of mp3Frames(part))
          out.push(part.subarray(offset, offset + header.length));
      });
      return Buffer.concat(out);
    }
    default:
      throw new RangeError(`Joining ${format.name} audio is not supported; use an MP3, RIFF or raw format.`);
  }
}

/** Audio duration from the bytes: WAV header and data length, raw PCM length, or an MP3 frame walk. */
export function measureDurationMs(audio: Buffer, format: OutputFormatInfo): number {
  switch (format.container) {
    case "riff": {
      const wav = parseWav(audio);
      return (wav.dataLength / wav.byteRate) * 1000;
    }
    case "raw": {
      const bytesPerSecond = format.sampleRate * ((format.bitsPerSample ?? 16) / 8);
      return (audio.length / bytesPerSecond) * 1000;
    }
    case "mp3": {
      let seconds = 0;
      for (const { header } of mp3Frames(audio)) seconds += header.samples / header.sampleRate;
      return seconds * 1000;
    }
    default:
      throw new RangeError(`Measuring ${format.name} audio is not supported.`);
  }
}
