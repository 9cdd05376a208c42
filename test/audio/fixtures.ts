import { Mp3Encoder } from "@breezystack/lamejs";
import { pcmFmt, wavHeader } from "../../src/audio/wav.js";

/** Mono 16-bit PCM samples of a sine tone. */
export function sinePcm(sampleRate: number, ms: number, hz = 440): Int16Array {
  const samples = new Int16Array(Math.round((sampleRate * ms) / 1000));
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  return samples;
}

export function sineWav(sampleRate: number, ms: number, hz = 440): Buffer {
  const pcm = Buffer.from(sinePcm(sampleRate, ms, hz).buffer);
  return Buffer.concat([wavHeader(pcmFmt(sampleRate, 16), pcm.length), pcm]);
}

/** A real MP3 (LAME via lamejs) of a sine tone, optionally behind an ID3v2 tag. */
export function sineMp3(
  sampleRate: number,
  kbps: number,
  ms: number,
  options: { id3?: boolean } = {},
): Buffer {
  const encoder = new Mp3Encoder(1, sampleRate, kbps);
  const pcm = sinePcm(sampleRate, ms);
  const parts: Buffer[] = [];
  if (options.id3) {
    const body = Buffer.from("TIT2\u0000\u0000\u0000\u0005\u0000\u0000\u0003test", "latin1");
    const header = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, body.length]);
    parts.push(header, body);
  }
  const block = 1152;
  for (let i = 0; i < pcm.length; i += block)
    parts.push(Buffer.from(encoder.encodeBuffer(pcm.subarray(i, i + block))));
  parts.push(Buffer.from(encoder.flush()));
  return Buffer.concat(parts);
}
