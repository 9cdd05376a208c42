import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { findOutputFormat } from "../../../src/speech/formats.js";
import { fastAudio, renderToFile } from "../audio/render.js";
import { REALTIME_MAX_AUDIO_MS } from "../constants.js";
import type { EmulatorServices, RequestContext } from "../context.js";
import { ErrorFactory } from "../errors.js";
import { billableCharacters, markers, parseSsml, planSpeech } from "../text.js";
import { checkOutputFormat } from "./validation.js";

/**
 * `POST /cognitiveservices/v1` (S11): SSML in, audio bytes out in `X-Microsoft-OutputFormat`, truncated at
 * 10 minutes like the service. Shares auth, rate limit and faults with the batch API.
 */
export async function synthesizeRealtime(ctx: RequestContext, services: EmulatorServices): Promise<void> {
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
  const parsed = parseSsml(ssml);
  if (!parsed.ok) throw ErrorFactory.badRequest(parsed.reason, "InvalidSsml");
  if (markers.failsInRealtime(ssml)) {
    throw ErrorFactory.badRequest(
      "The synthesis failed (emulator fault marker [[emulator:fail-always]]).",
      "SynthesisFailed",
    );
  }
  const characters = billableCharacters(ssml, "SSML");
  services.store.updateUsage((u) => {
    u.requests.realtime += 1;
    u.realtimeCharacters += characters;
  });
  const estimatedMs = planSpeech(parsed.value.text).totalMs;
  if (services.config.audioMode === "fast" || estimatedMs > services.config.fastAudioThresholdMs) {
    const audio = fastAudio(format, Math.min(estimatedMs, REALTIME_MAX_AUDIO_MS));
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
    const mode = services.config.audioMode === "synthetic" ? "synthetic" : "speech";
    const rendered = await renderToFile(
      [{ text: parsed.value.text, language: parsed.value.language }],
      format,
      mode,
      file,
      {
        maxDurationMs: REALTIME_MAX_AUDIO_MS,
      },
    );
    ctx.res.writeHead(200, {
      "content-type": format.contentType,
      "content-length": String(rendered.sizeInBytes),
    });
    await pipeline(createReadStream(file), ctx.res).catch(() => ctx.res.destroy());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
