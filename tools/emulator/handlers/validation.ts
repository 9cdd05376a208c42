import { findOutputFormat } from "../../../src/speech/formats.js";
import { emulatorSupportsFormat } from "../audio/render.js";
import type { ResolvedConfig } from "../config.js";
import { ID_PATTERN, MAX_TTL_HOURS } from "../constants.js";
import { ErrorFactory } from "../errors.js";
import type { InputKind, SynthesisRequest } from "../model.js";

const DEFAULT_OUTPUT_FORMAT = "riff-24khz-16bit-mono-pcm";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalBoolean(properties: Record<string, unknown>, name: string): boolean {
  const value = properties[name];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean")
    throw ErrorFactory.badRequest(`The property '${name}' must be a boolean.`, "InvalidProperty");
  return value;
}

/** Checks an output format against the catalogue (Azure: 400) and what the emulator can render. */
export function checkOutputFormat(name: string): string {
  const format = findOutputFormat(name);
  if (!format) throw ErrorFactory.unsupportedOutputFormat(name);
  if (!emulatorSupportsFormat(format)) {
    throw ErrorFactory.badRequest(
      `The output format '${name}' is not supported by the Speech emulator (it renders the RIFF/PCM, raw PCM, A-law, mu-law and MP3 formats, and Ogg/WebM Opus when ffmpeg has libopus).`,
      "InvalidOutputFormat",
    );
  }
  return format.name;
}

/**
 * Validates a create body in the order the service reports problems (S1, S2, S5) and normalises it
 * (canonical inputKind and format name, defaults filled in) so identical requests compare equal.
 */
export function validateCreateRequest(body: unknown, config: ResolvedConfig): SynthesisRequest {
  if (!isObject(body))
    throw ErrorFactory.badRequest("The request body must be a JSON object.", "InvalidRequestBody");
  const rawKind = body.inputKind;
  if (rawKind === undefined || rawKind === null)
    throw ErrorFactory.badRequest("The inputKind is required.", "InvalidInputKind");
  const kind = typeof rawKind === "string" ? rawKind.toLowerCase() : "";
  if (kind !== "plaintext" && kind !== "ssml") {
    throw ErrorFactory.badRequest(
      `The inputKind '${String(rawKind)}' is not supported. Supported values are 'PlainText' and 'SSML'.`,
      "InvalidInputKind",
    );
  }
  const inputKind: InputKind = kind === "ssml" ? "SSML" : "PlainText";
  const rawInputs = body.inputs;
  if (!Array.isArray(rawInputs) || rawInputs.length === 0) throw ErrorFactory.inputsRequired();
  if (rawInputs.length > config.maxInputs) throw ErrorFactory.tooManyInputs(config.maxInputs);
  const inputs = rawInputs.map((input, i) => {
    if (!isObject(input) || typeof input.content !== "string" || input.content.length === 0) {
      throw ErrorFactory.badRequest(`The content of inputs[${i}] is required.`, "InvalidInput");
    }
    return input.content;
  });

  let synthesisConfig: SynthesisRequest["synthesisConfig"];
  if (body.synthesisConfig !== undefined && body.synthesisConfig !== null) {
    if (!isObject(body.synthesisConfig))
      throw ErrorFactory.badRequest("The synthesisConfig must be an object.", "InvalidSynthesisConfig");
    synthesisConfig = { ...body.synthesisConfig } as SynthesisRequest["synthesisConfig"];
  }
  if (inputKind === "PlainText") {
    const voice = synthesisConfig?.voice;
    if (typeof voice !== "string" || voice.trim().length === 0) {
      throw ErrorFactory.badRequest(
        "The synthesisConfig.voice is required when inputKind is PlainText.",
        "InvalidSynthesisConfig",
      );
    }
  } else {
    // synthesisConfig only applies to PlainText; SSML carries its own voice.
    synthesisConfig = undefined;
  }

  const customVoices: Record<string, string> = {};
  if (body.customVoices !== undefined && body.customVoices !== null) {
    if (!isObject(body.customVoices))
      throw ErrorFactory.badRequest("The customVoices must be an object.", "InvalidCustomVoices");
    for (const [voice, deployment] of Object.entries(body.customVoices)) {
      if (typeof deployment !== "string" || !ID_PATTERN.test(deployment)) {
        throw ErrorFactory.badRequest(
          `The deployment id of custom voice '${voice}' is invalid.`,
          "InvalidCustomVoices",
        );
      }
      customVoices[voice] = deployment;
    }
  }

  const rawProperties = body.properties ?? {};
  if (!isObject(rawProperties))
    throw ErrorFactory.badRequest("The properties must be an object.", "InvalidProperty");
  const rawFormat = rawProperties.outputFormat ?? DEFAULT_OUTPUT_FORMAT;
  if (typeof rawFormat !== "string") throw ErrorFactory.unsupportedOutputFormat(String(rawFormat));
  const outputFormat = checkOutputFormat(rawFormat);
  const rawTtl = rawProperties.timeToLiveInHours ?? config.defaultTtlHours;
  if (typeof rawTtl !== "number" || !Number.isInteger(rawTtl) || rawTtl < 1 || rawTtl > MAX_TTL_HOURS) {
    throw ErrorFactory.badRequest(
      `The timeToLiveInHours must be an integer between 1 and ${MAX_TTL_HOURS}.`,
      "InvalidProperty",
    );
  }
  const properties: SynthesisRequest["properties"] = {
    timeToLiveInHours: rawTtl,
    outputFormat,
    concatenateResult: optionalBoolean(rawProperties, "concatenateResult"),
    decompressOutputFiles: optionalBoolean(rawProperties, "decompressOutputFiles"),
    wordBoundaryEnabled: optionalBoolean(rawProperties, "wordBoundaryEnabled"),
    sentenceBoundaryEnabled: optionalBoolean(rawProperties, "sentenceBoundaryEnabled"),
  };
  const destination = rawProperties.destinationContainerUrl;
  if (destination !== undefined && destination !== null) {
    let parsed: URL | undefined;
    try {
      parsed = typeof destination === "string" ? new URL(destination) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) {
      throw ErrorFactory.badRequest(
        "The destinationContainerUrl must be an absolute container SAS URL.",
        "InvalidDestination",
      );
    }
    if (!parsed.searchParams.get("sig")) {
      throw ErrorFactory.badRequest(
        "The destinationContainerUrl must carry an ad-hoc SAS token.",
        "InvalidDestination",
      );
    }
    const expiry = parsed.searchParams.get("se");
    if (expiry && Date.parse(expiry) < config.clock.now()) {
      throw ErrorFactory.badRequest(
        "The property DestinationContainerUrl is an expired SAS URI.",
        "InvalidDestination",
      );
    }
    properties.destinationContainerUrl = destination as string;
  }
  if (rawProperties.destinationPath !== undefined && rawProperties.destinationPath !== null) {
    if (typeof rawProperties.destinationPath !== "string") {
      throw ErrorFactory.badRequest("The destinationPath must be a string.", "InvalidProperty");
    }
    properties.destinationPath = rawProperties.destinationPath;
  }
  const request: SynthesisRequest = { inputKind, inputs, customVoices, properties };
  if (typeof body.description === "string") request.description = body.description;
  if (synthesisConfig) request.synthesisConfig = synthesisConfig;
  return request;
}

/** Stable JSON (sorted keys) for comparing requests. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
