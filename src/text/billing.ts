import { stripBom } from "./ssml.js";

/** Chinese characters, Japanese kanji and Korean hanja: Azure bills each as two characters. */
const HAN = /\p{Script=Han}/u;

/** `<speak …>`, `</speak>`, `<voice …>`, `</voice>` and the XML declaration: markup Azure does not bill. */
const UNBILLED_MARKUP = /<\?xml[^>]*\?>|<\/?speak(?:\s[^>]*)?>|<\/?voice(?:\s[^>]*)?\/?>/g;

/**
 * Characters as Azure bills them: every code point of the text, including punctuation, whitespace
 * and (for SSML) markup, except the `<speak>` and `<voice>` tags; each Han character counts twice.
 */
export function billableCharacters(textOrSsml: string, kind: "PlainText" | "SSML"): number {
  let source = stripBom(textOrSsml);
  if (kind === "SSML") source = source.replace(UNBILLED_MARKUP, "");
  let count = 0;
  for (const char of source) count += HAN.test(char) ? 2 : 1;
  return count;
}
