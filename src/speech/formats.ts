/**
 * Azure text-to-speech output formats (`X-Microsoft-OutputFormat`, batch `properties.outputFormat`),
 * with what each means for storage: file extension, content type, and how audio of that format
 * is framed (which decides how split audio is joined). Source: "Text to speech REST API", audio outputs.
 */
export type AudioContainer = "riff" | "raw" | "mp3" | "ogg" | "webm" | "opus" | "amr" | "silk";
export type AudioCodec = "pcm" | "alaw" | "mulaw" | "mp3" | "opus" | "amr" | "silk";

export interface OutputFormatInfo {
  readonly name: string;
  readonly container: AudioContainer;
  readonly codec: AudioCodec;
  readonly sampleRate: number;
  /** Bits per sample for PCM-family formats; undefined for compressed ones. */
  readonly bitsPerSample?: number;
  /** Nominal bit rate in kbit/s for compressed formats. */
  readonly kbps?: number;
  /** File extension used for the stored audio and in results.zip. */
  readonly extension: "mp3" | "wav" | "ogg" | "webm" | "opus" | "pcm" | "amr" | "silk";
  readonly contentType: string;
  /** Formats that can be streamed; RIFF formats are not. */
  readonly streaming: boolean;
}

/**
 * Headerless outputs. `audio/basic` means 8-bit mu-law at 8 kHz only (RFC 2046 §4.3.3) and A-law is
 * `audio/PCMA` (RFC 4856); little-endian 16-bit PCM and SILK have no registered type (`audio/L16` is
 * big-endian, RFC 2586), so they are plain bytes.
 */
function rawContentType(codec: string): string {
  if (codec === "mulaw") return "audio/basic";
  if (codec === "alaw") return "audio/PCMA";
  return "application/octet-stream";
}

function info(name: string): OutputFormatInfo {
  const rate = (khz: string): number => {
    if (khz === "22050hz") return 22050;
    if (khz === "44100hz") return 44100;
    if (khz === "16000hz") return 16000;
    return Number(khz.replace("khz", "")) * 1000;
  };
  const parts = name.split("-");
  const head = parts[0];
  if (head === "riff" || head === "raw") {
    const codec: string = parts[4] ?? "pcm";
    const bits = Number((parts[2] ?? "16bit").replace("bit", ""));
    return {
      name,
      container: head,
      codec: (codec === "truesilk" ? "silk" : codec) as AudioCodec,
      sampleRate: rate(parts[1] ?? "24khz"),
      bitsPerSample: bits,
      extension: head === "riff" ? "wav" : codec === "truesilk" ? "silk" : "pcm",
      contentType: head === "riff" ? "audio/wav" : rawContentType(codec),
      streaming: head === "raw",
    };
  }
  if (head === "amr") {
    return {
      name,
      container: "amr",
      codec: "amr",
      sampleRate: 16000,
      extension: "amr",
      contentType: "audio/amr",
      streaming: true,
    };
  }
  if (name.endsWith("-mp3")) {
    // audio-24khz-96kbitrate-mono-mp3
    return {
      name,
      container: "mp3",
      codec: "mp3",
      sampleRate: rate(parts[1] ?? "24khz"),
      kbps: Number((parts[2] ?? "48kbitrate").replace("kbitrate", "")),
      extension: "mp3",
      contentType: "audio/mpeg",
      streaming: true,
    };
  }
  if (head === "ogg") {
    return {
      name,
      container: "ogg",
      codec: "opus",
      sampleRate: rate(parts[1] ?? "24khz"),
      extension: "ogg",
      contentType: "audio/ogg",
      streaming: true,
    };
  }
  if (head === "webm") {
    return {
      name,
      container: "webm",
      codec: "opus",
      sampleRate: rate(parts[1] ?? "24khz"),
      extension: "webm",
      contentType: "audio/webm",
      streaming: true,
    };
  }
  // audio-16khz-16bit-32kbps-mono-opus: Opus in Ogg pages.
  return {
    name,
    container: "opus",
    codec: "opus",
    sampleRate: rate(parts[1] ?? "24khz"),
    kbps: Number((parts[3] ?? "32kbps").replace("kbps", "")),
    extension: "opus",
    contentType: "audio/ogg",
    streaming: true,
  };
}

/** Every output format the service documents (streaming and non-streaming). */
/**
 * Exactly the `X-Microsoft-OutputFormat` values of the text-to-speech REST reference ("Audio outputs", streaming and
 * nonstreaming tabs: MicrosoftDocs/azure-ai-docs articles/ai-services/speech-service/rest-text-to-speech.md), which
 * batch synthesis also takes. `riff-16khz-16bit-mono-pcm` (the legacy Long Audio API's default) is not in it.
 */
export const OUTPUT_FORMAT_NAMES = [
  "amr-wb-16000hz",
  "audio-16khz-16bit-32kbps-mono-opus",
  "audio-16khz-32kbitrate-mono-mp3",
  "audio-16khz-64kbitrate-mono-mp3",
  "audio-16khz-128kbitrate-mono-mp3",
  "audio-24khz-16bit-24kbps-mono-opus",
  "audio-24khz-16bit-48kbps-mono-opus",
  "audio-24khz-48kbitrate-mono-mp3",
  "audio-24khz-96kbitrate-mono-mp3",
  "audio-24khz-160kbitrate-mono-mp3",
  "audio-48khz-96kbitrate-mono-mp3",
  "audio-48khz-192kbitrate-mono-mp3",
  "ogg-16khz-16bit-mono-opus",
  "ogg-24khz-16bit-mono-opus",
  "ogg-48khz-16bit-mono-opus",
  "raw-8khz-8bit-mono-alaw",
  "raw-8khz-8bit-mono-mulaw",
  "raw-8khz-16bit-mono-pcm",
  "raw-16khz-16bit-mono-pcm",
  "raw-16khz-16bit-mono-truesilk",
  "raw-22050hz-16bit-mono-pcm",
  "raw-24khz-16bit-mono-pcm",
  "raw-24khz-16bit-mono-truesilk",
  "raw-44100hz-16bit-mono-pcm",
  "raw-48khz-16bit-mono-pcm",
  "webm-16khz-16bit-mono-opus",
  "webm-24khz-16bit-24kbps-mono-opus",
  "webm-24khz-16bit-mono-opus",
  "riff-8khz-8bit-mono-alaw",
  "riff-8khz-8bit-mono-mulaw",
  "riff-8khz-16bit-mono-pcm",
  "riff-22050hz-16bit-mono-pcm",
  "riff-24khz-16bit-mono-pcm",
  "riff-44100hz-16bit-mono-pcm",
  "riff-48khz-16bit-mono-pcm",
] as const;

export type OutputFormatName = (typeof OUTPUT_FORMAT_NAMES)[number];

const CATALOG: ReadonlyMap<string, OutputFormatInfo> = new Map(
  OUTPUT_FORMAT_NAMES.map((n) => [n.toLowerCase(), info(n)] as const),
);

/** Looks a format up case-insensitively (the service accepts any case); undefined when unknown. */
export function findOutputFormat(name: string): OutputFormatInfo | undefined {
  return CATALOG.get(name.trim().toLowerCase());
}

/** Like {@link findOutputFormat} but throws a RangeError naming the bad value. */
export function getOutputFormat(name: string): OutputFormatInfo {
  const found = findOutputFormat(name);
  if (!found) throw new RangeError(`Unsupported output format "${name}".`);
  return found;
}
