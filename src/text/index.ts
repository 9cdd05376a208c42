export { billableCharacters } from "./billing.js";
export {
  foldPronunciationHash,
  type Lexicon,
  type PronunciationEntry,
  PronunciationMatcher,
  type PronunciationRule,
  pronounceSsml,
  pronounceText,
  rulesFromEntries,
  rulesFromLexicon,
  rulesHash,
  validateLexicon,
  validatePronunciationList,
} from "./pronunciations.js";
export {
  REALTIME_MAX_CHARACTERS,
  type SplitOptions,
  speechWeight,
  splitForRealtime,
  splitSsml,
  splitText,
} from "./split.js";
export {
  escapeXml,
  type SsmlValidation,
  stripBom,
  type TextToSsmlOptions,
  textParagraphs,
  textToSsml,
  validateSsml,
  voiceLocale,
} from "./ssml.js";
