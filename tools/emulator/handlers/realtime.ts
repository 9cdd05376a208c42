import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { findOutputFormat } from "../../../src/speech/formats.js";
import { slowestProsodyRate } from "../../../src/text/split.js";
import { fastAudio, needsRealEncoder, renderToFile } from "../audio/render.js";
import { REALTIME_MAX_AUDIO_MS } from "../constants.js";
import type { EmulatorServices, RequestContext } from "../context.js";
import { ErrorFactory } from "../errors.js";
import { resolveLexicons } from "../lexicon.js";
import { EMULATOR_TOKEN_ISSUER } from "../middleware/auth.js";
import { billableCharacters, markers, parseSsml, planSpeech } from "../text.js";
import { checkOutputFormat } from "./validation.js";

/**
 * `POST /cognitiveservices/v1` (S11): SSML in, audio bytes out in `X-Microsoft-OutputFormat`, truncated at
 * 10 minutes like the service. Shares auth, rate limit and faults with the batch API.
 */
export async function synthesizeRealtime(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  // Every request that reaches the handler counts, failed ones too; only synthesized characters are billed.
  await services.store.updateUsage((u) => {
    u.requests.realtime += 1;
  });
  const contentType = String(ctx.req.headers["content-type"] ?? "");
  if (!/^application\/ssml\+xml\b/i.test(contentType))
    throw ErrorFactory.unsupportedMediaType(contentType || "(none)");
  const formatHeader = ctx.req.headers["x-microsoft-outputformat"];
  if (typeof formatHeader !== "string" || formatHeader.length === 0) {
    throw ErrorFactory.badRequest("The X-Microsoft-OutputFormat header is required.", "InvalidOutputFormat");
  }
  const format = findOutputFormat(checkOutputFormat(formatHeader));
  if (!format) throw ErrorFactory.unsupportedOutputFormat(formatHeader);
  const ssml = (ctx.body ?? Buffer.alloc(0)).toString("utf8");
  // Custom lexicons are fetched and applied before parsing; one that cannot be read refuses the request.
  const resolved = await resolveLexicons(ssml);
  if (!resolved.ok) throw ErrorFactory.badRequest(resolved.reason, "InvalidLexicon");
  const parsed = parseSsml(resolved.ssml);
  if (!parsed.ok) throw ErrorFactory.badRequest(parsed.reason, "InvalidSsml");
  if (markers.failsInRealtime(ssml)) {
    throw ErrorFactory.badRequest(
      "The synthesis failed (emulator fault marker [[emulator:fail-always]]).",
      "SynthesisFailed",
    );
  }
  const characters = billableCharacters(ssml, "SSML");
  const bill = () =>
    services.store.updateUsage((u) => {
      u.realtimeCharacters += characters;
    });
  // Prosody rate stretches the audio (the emulator applies the slowest rate of the document to all of it).
  const rate = slowestProsodyRate(ssml);
  const estimatedMs = Math.round(planSpeech(parsed.value.text).totalMs / rate);
  if (
    !needsRealEncoder(format) &&
    (services.config.audioMode === "fast" || rate !== 1 || estimatedMs > services.config.fastAudioThresholdMs)
  ) {
    // Cut at 10 minutes without a word, as the service does (rest-text-to-speech.md, "Sample request").
    const audio = fastAudio(format, Math.min(estimatedMs, REALTIME_MAX_AUDIO_MS));
    await bill();
    ctx.res.writeHead(200, {
      "content-type": format.contentType,
      "content-length": String(audio.sizeInBytes),
    });
    await pipeline(audio.open(), ctx.res).catch(() => ctx.res.destroy());
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "speech-emulator-rt-"));
  try {
    const file = join(dir, `audio.${format.extension}`);
    const mode = services.config.audioMode === "speech" ? "speech" : "synthetic";
    const rendered = await renderToFile(
      [{ text: parsed.value.text, language: parsed.value.language }],
      format,
      mode,
      file,
      {
        maxDurationMs: REALTIME_MAX_AUDIO_MS,
      },
    );
    await bill();
    ctx.res.writeHead(200, {
      "content-type": format.contentType,
      "content-length": String(rendered.sizeInBytes),
    });
    await pipeline(createReadStream(file), ctx.res).catch(() => ctx.res.destroy());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `POST /sts/v1.0/issueToken` (S11): exchanges the key for an access token, a JWT-shaped string valid for the
 * usual 10 minutes that the realtime endpoint accepts as `Authorization: Bearer <token>`.
 */
export async function issueToken(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  const now = Math.floor(services.config.clock.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const token = `${encode({ alg: "none", typ: "JWT" })}.${encode({ iss: EMULATOR_TOKEN_ISSUER, iat: now, exp: now + 600, region: "local" })}.`;
  ctx.res.writeHead(200, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(Buffer.byteLength(token)),
  });
  ctx.res.end(token);
}

const VOICES = [
  ["en-US-JennyNeural", "Jenny", "Female", "en-US", 152],
  ["en-US-AvaMultilingualNeural", "Ava", "Female", "en-US", 150],
  ["en-US-GuyNeural", "Guy", "Male", "en-US", 148],
  ["en-GB-SoniaNeural", "Sonia", "Female", "en-GB", 150],
  ["de-DE-KatjaNeural", "Katja", "Female", "de-DE", 140],
  ["fr-FR-DeniseNeural", "Denise", "Female", "fr-FR", 145],
  ["es-ES-ElviraNeural", "Elvira", "Female", "es-ES", 150],
] as const;

/** `GET /cognitiveservices/voices/list` (S11): a small catalogue in the service's shape. */
export async function listVoices(ctx: RequestContext): Promise<void> {
  const body = VOICES.map(([shortName, displayName, gender, locale, wordsPerMinute]) => ({
    Name: `Microsoft Server Speech Text to Speech Voice (${locale}, ${shortName.slice(locale.length + 1)})`,
    DisplayName: displayName,
    LocalName: displayName,
    ShortName: shortName,
    Gender: gender,
    Locale: locale,
    LocaleName: locale,
    SampleRateHertz: "48000",
    VoiceType: "Neural",
    Status: "GA",
    WordsPerMinute: String(wordsPerMinute),
  }));
  const text = JSON.stringify(body);
  ctx.res.writeHead(200, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  ctx.res.end(text);
}
