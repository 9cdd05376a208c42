import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  isRestError,
  type Pipeline,
} from "@azure/core-rest-pipeline";
import { z } from "zod";
import { canJoin, joinAudio, measureDurationMs } from "../audio/join.js";
import { billableCharacters } from "../text/billing.js";
import {
  prosodyRateFactor,
  realtimeChunkCharacters,
  slowestProsodyRate,
  speechWeight,
  splitForRealtime,
} from "../text/split.js";
import { textToSsml, validateSsml } from "../text/ssml.js";
import type { OperationOptions } from "./BatchSynthesisClient.js";
import { createSpeechError, toTransportError } from "./errors.js";
import { getOutputFormat } from "./formats.js";
import {
  allowsInsecureConnection,
  createSpeechPipeline,
  realtimeEntraTokenPolicy,
  type SpeechClientOptions,
} from "./httpPipeline.js";

export interface RealtimeSynthesisClientOptions extends SpeechClientOptions {
  /**
   * ARM id of the Speech resource (`SPEECH_RESOURCE_ID`), needed with a token credential: the realtime endpoint
   * takes Microsoft Entra tokens only as `aad#{resourceId}#{token}`.
   */
  resourceId?: string;
}

export interface SynthesizeLongInput {
  /** Plain text (converted to SSML with {@link textToSsml}); or give `ssml`. */
  text?: string;
  /** A full SSML document; its own voices win over `voice`. */
  ssml?: string;
  voice: string;
  outputFormat: string;
  prosody?: { rate?: string; pitch?: string; style?: string; lang?: string };
}

export interface SynthesizeLongOptions extends OperationOptions {
  /**
   * Spoken characters per request; default from the voice's words per minute and the slowest prosody rate in
   * play ({@link realtimeChunkCharacters}: ~7,000 at 150 wpm and rate 1), so a chunk stays under the 10-minute cut.
   */
  maxCharactersPerRequest?: number;
  /** The voice's words per minute; default from `GET /cognitiveservices/voices/list` (`WordsPerMinute`), else 150. */
  wordsPerMinute?: number;
  /** Locale for sentence segmentation; default from the voice. */
  locale?: string;
}

export interface SynthesizeLongResult {
  audio: Buffer;
  /** Measured from the joined audio (0 for formats that can't be measured here, e.g. Ogg/WebM). */
  durationMs: number;
  requests: number;
  /** Billable characters sent (Azure's rule, summed over the requests, truncated ones included). */
  characters: number;
  /** Requests whose audio came back at the 10-minute cut, and were split and sent again. */
  truncatedRequests: number;
}

/**
 * {@link RealtimeSynthesisClient.synthesizeLong} failed part-way: a request of the chain failed (its error is the
 * `cause`, a SpeechServiceError already free of secrets) after the ones before it were billed. Carries what the
 * service billed so callers can report it: `characters` of the requests that produced audio (a refused request
 * bills none, emulator docs "Usage"), `requests` the service answered, the failed one included.
 */
export class RealtimeSynthesisError extends Error {
  override readonly name = "RealtimeSynthesisError";
  constructor(
    message: string,
    readonly requests: number,
    readonly characters: number,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** How a long input is cut into requests: the options of {@link SynthesizeLongOptions} that size and segment. */
export type RealtimeRequestSizing = Pick<
  SynthesizeLongOptions,
  "maxCharactersPerRequest" | "wordsPerMinute" | "locale"
>;

/**
 * The SSML requests {@link RealtimeSynthesisClient.synthesizeLong} sends for an input (before any cut request
 * is split again), and the segmentation locale. One definition for the client and for estimates of what it
 * bills (compare): user SSML validated, plain text through {@link textToSsml}, chunks sized by
 * {@link realtimeChunkCharacters} for the voice's words per minute (150 when unknown) and the slowest rate.
 */
export function realtimeRequests(
  input: Omit<SynthesizeLongInput, "outputFormat">,
  sizing: RealtimeRequestSizing = {},
): { chunks: string[]; locale: string } {
  let ssml: string;
  if (input.ssml !== undefined) {
    const validation = validateSsml(input.ssml);
    if (!validation.ok) throw new TypeError(`Invalid SSML: ${validation.reason}`);
    ssml = input.ssml;
  } else {
    ssml = textToSsml(input.text ?? "", { voice: input.voice, ...input.prosody });
  }
  const locale = sizing.locale ?? input.prosody?.lang ?? input.voice.split("-").slice(0, 2).join("-");
  const maxCharacters =
    sizing.maxCharactersPerRequest ??
    realtimeChunkCharacters({
      ...(sizing.wordsPerMinute ? { wordsPerMinute: sizing.wordsPerMinute } : {}),
      rateFactor: Math.min(prosodyRateFactor(input.prosody?.rate), slowestProsodyRate(ssml)),
    });
  return { chunks: splitForRealtime(ssml, { maxCharacters, locale }), locale };
}

/** Audio at least this long is taken as cut at 10 minutes by the service, not as a chunk that ended there. */
export const TRUNCATED_AUDIO_MS = 599_000;
/** A chunk smaller than this is never split further (a cut there would mean something other than length). */
const MIN_SPLIT_CHARACTERS = 200;

const voiceListSchema = z.array(
  z.looseObject({
    ShortName: z.string(),
    WordsPerMinute: z.coerce.number().positive().optional().catch(undefined),
  }),
);

/**
 * Client of the realtime text-to-speech endpoint (`POST /cognitiveservices/v1`).
 *
 * Example usage:
 * ```ts
 * const tts = new RealtimeSynthesisClient("https://eastus.tts.speech.microsoft.com", new AzureKeyCredential(key));
 * // Microsoft Entra ID: new RealtimeSynthesisClient(regionalEndpoint, new DefaultAzureCredential(), { resourceId })
 * const { audio, durationMs } = await tts.synthesizeLong({ text: chapter, voice: "en-US-AvaMultilingualNeural",
 *   outputFormat: "audio-24khz-96kbitrate-mono-mp3" });
 * ```
 */
export class RealtimeSynthesisClient {
  readonly endpoint: string;
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  private readonly secrets: string[];
  private readonly allowInsecure: boolean;
  private voices: Promise<Map<string, number>> | undefined;

  constructor(
    endpoint: string,
    credential: KeyCredential | TokenCredential,
    options: RealtimeSynthesisClientOptions = {},
  ) {
    const url = new URL(endpoint);
    this.endpoint = url.origin + url.pathname.replace(/\/+$/, "").replace(/\/cognitiveservices\/v1$/, "");
    this.pipeline = createSpeechPipeline(credential, options, (tokenCredential) =>
      realtimeEntraTokenPolicy(tokenCredential, options.resourceId),
    );
    this.httpClient = options.httpClient ?? createDefaultHttpClient();
    this.secrets = "key" in credential && typeof credential.key === "string" ? [credential.key] : [];
    this.allowInsecure = allowsInsecureConnection(this.endpoint, options);
  }

  /** One request: SSML in, the audio bytes of `outputFormat` out (at most 10 minutes; the service truncates). */
  async synthesize(ssml: string, outputFormat: string, options: OperationOptions = {}): Promise<Buffer> {
    const request = createPipelineRequest({
      url: `${this.endpoint}/cognitiveservices/v1`,
      method: "POST",
      headers: createHttpHeaders({
        "Content-Type": "application/ssml+xml",
        "X-Microsoft-OutputFormat": outputFormat,
      }),
      body: ssml,
      allowInsecureConnection: this.allowInsecure,
      streamResponseStatusCodes: new Set([200]),
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    const response = await this.pipeline.sendRequest(this.httpClient, request).catch((error: unknown) => {
      throw toTransportError(error, this.secrets);
    });
    if (response.status !== 200 || !response.readableStreamBody) {
      throw createSpeechError(response, response.bodyAsText ?? undefined, this.secrets);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * Words per minute of each voice, from `GET /cognitiveservices/voices/list` (`WordsPerMinute`: "can be used to
   * estimate the length of the output speech", rest-text-to-speech.md). Read once per client; a failure is not
   * fatal (the default rate is used) and is retried on the next call.
   */
  async voiceWordsPerMinute(voice: string, options: OperationOptions = {}): Promise<number | undefined> {
    this.voices ??= (async () => {
      const request = createPipelineRequest({
        url: `${this.endpoint}/cognitiveservices/voices/list`,
        method: "GET",
        allowInsecureConnection: this.allowInsecure,
        ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
      });
      const response = await this.pipeline.sendRequest(this.httpClient, request);
      if (response.status !== 200)
        throw createSpeechError(response, response.bodyAsText ?? undefined, this.secrets);
      const list = voiceListSchema.parse(JSON.parse(response.bodyAsText ?? "[]"));
      return new Map(
        list.flatMap((v) => (v.WordsPerMinute ? [[v.ShortName.toLowerCase(), v.WordsPerMinute]] : [])),
      );
    })();
    try {
      return (await this.voices).get(voice.toLowerCase());
    } catch {
      this.voices = undefined;
      return undefined;
    }
  }

  /**
   * Synthesizes text or SSML of any length: split at paragraph, then sentence boundaries into requests sized to
   * stay under the 10-minute cut for the voice and rate (never inside an SSML element), sent in order, and the
   * audio joined for its format (MP3 frames concatenated; WAV with one correct header; raw PCM concatenated).
   * A request whose audio comes back at the cut (>= 599 s: the service truncates silently) is split in two and
   * sent again. A failed request ends the chain with a {@link RealtimeSynthesisError} saying what was billed.
   */
  async synthesizeLong(
    input: SynthesizeLongInput,
    options: SynthesizeLongOptions = {},
  ): Promise<SynthesizeLongResult> {
    const format = getOutputFormat(input.outputFormat);
    const wordsPerMinute =
      options.maxCharactersPerRequest === undefined
        ? (options.wordsPerMinute ?? (await this.voiceWordsPerMinute(input.voice, options)))
        : undefined;
    const { maxCharactersPerRequest, locale: segmentation } = options;
    const { chunks, locale } = realtimeRequests(input, {
      ...(maxCharactersPerRequest !== undefined ? { maxCharactersPerRequest } : {}),
      ...(wordsPerMinute ? { wordsPerMinute } : {}),
      ...(segmentation !== undefined ? { locale: segmentation } : {}),
    });
    if (chunks.length === 0) throw new TypeError("Nothing to synthesize: the text is empty.");
    if (chunks.length > 1 && !canJoin(format)) {
      throw new RangeError(
        `Text this long needs several requests, and ${format.name} audio can't be joined; use an MP3, RIFF or raw format.`,
      );
    }
    const parts: Buffer[] = [];
    let characters = 0;
    let requests = 0;
    let truncatedRequests = 0;
    const pending = [...chunks];
    while (pending.length > 0) {
      const chunk = pending.shift() as string;
      let audio: Buffer;
      try {
        audio = await this.synthesize(chunk, format.name, options);
      } catch (error) {
        // The chunks before this one are paid for: say so. A request the service answered counts as served.
        const answered = isRestError(error) && error.statusCode !== undefined ? 1 : 0;
        throw new RealtimeSynthesisError(
          error instanceof Error ? error.message : String(error),
          requests + answered,
          characters,
          { cause: error },
        );
      }
      requests += 1;
      characters += billableCharacters(chunk, "SSML");
      const weight = speechWeight(chunk.replace(/<[^>]+>/g, ""));
      if (
        canJoin(format) &&
        measureDurationMs(audio, format) >= TRUNCATED_AUDIO_MS &&
        weight >= MIN_SPLIT_CHARACTERS
      ) {
        const halves = splitForRealtime(chunk, { maxCharacters: Math.ceil(weight / 2), locale });
        if (halves.length > 1) {
          truncatedRequests += 1;
          pending.unshift(...halves);
          continue;
        }
      }
      parts.push(audio);
    }
    const audio = joinAudio(parts, format);
    return {
      audio,
      durationMs: canJoin(format) ? Math.round(measureDurationMs(audio, format)) : 0,
      requests,
      characters,
      truncatedRequests,
    };
  }
}
