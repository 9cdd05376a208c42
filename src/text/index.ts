export { billableCharacters } from "./billing.js";
export {
  DEFAULT_WORDS_PER_MINUTE,
  prosodyRateFactor,
  REALTIME_MAX_AUDIO_MS,
  REALTIME_MAX_CHARACTERS,
  realtimeChunkCharacters,
  type SplitOptions,
  slowestProsodyRate,
  speechWeight,
  splitForRealtime,
  splitSsml,
  splitText,
} from "./split.js";
export {
  decodeXmlEntities,
  escapeXml,
  type SsmlValidation,
  stripBom,
  type TextToSsmlOptions,
  textParagraphs,
  textToSsml,
  validateSsml,
  voiceLocale,
} from "./ssml.js";
