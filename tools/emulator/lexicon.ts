import {
  MAX_LEXICON_BYTES,
  PronunciationMatcher,
  pronounceSsml,
  rulesFromLexicon,
  validateLexicon,
  withoutLexiconElements,
} from "../../src/text/pronunciations.js";
import { decodeXmlEntities } from "../../src/text/ssml.js";

/**
 * Custom lexicons in the emulator: every `<lexicon uri>` of an SSML input is fetched (anonymously, as the
 * service does; a SAS in the URL grants the read), validated as PLS, and its lexemes are applied to the
 * text as `<sub>`/`<phoneme>`, which the emulator then speaks (the alias or the phones replace the written
 * word in the audio and the word boundaries). A lexicon that cannot be fetched or read fails the input:
 * per the docs the synthesis request fails (speech-synthesis-markup-pronunciation, "Custom lexicon file");
 * the exact error text of the service is UNCONFIRMED, so the emulator answers 400 (realtime) or a failed
 * input (batch) with code `InvalidLexicon`. Messages never carry the URL's query (the SAS).
 */

export type LexiconResolution = { ok: true; ssml: string } | { ok: false; reason: string };

const LEXICON_TAG = /<lexicon\b[^>]*\/>|<lexicon\b[^>]*>[\s\S]*?<\/lexicon>/g;
const FETCH_TIMEOUT_MS = 10_000;

function uriOf(tag: string): string | undefined {
  const match = /\suri\s*=\s*("([^"]*)"|'([^']*)')/.exec(tag);
  const raw = match ? (match[2] ?? match[3]) : undefined;
  return raw === undefined ? undefined : decodeXmlEntities(raw);
}

function withoutQuery(uri: string): string {
  return uri.replace(/[?#].*$/, "");
}

async function fetchLexicon(
  uri: string,
): Promise<{ ok: true; text: string } | { ok: false; reason: string }> {
  const shown = withoutQuery(uri);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { ok: false, reason: `The lexicon URI "${shown}" is not an absolute URL.` };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, reason: `The lexicon URI "${shown}" must be http or https.` };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) {
      await response.body?.cancel();
      return {
        ok: false,
        reason: `The custom lexicon at ${shown} could not be downloaded (HTTP ${response.status}).`,
      };
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > MAX_LEXICON_BYTES)
      return { ok: false, reason: `The custom lexicon at ${shown} is larger than 100 KB.` };
    return { ok: true, text: bytes.toString("utf8") };
  } catch (error) {
    const why = error instanceof Error ? error.name : "error";
    return { ok: false, reason: `The custom lexicon at ${shown} could not be downloaded (${why}).` };
  }
}

/** Applies every `<lexicon uri>` of an SSML document; the document unchanged when it has none. */
export async function resolveLexicons(ssml: string): Promise<LexiconResolution> {
  const tags = ssml.match(LEXICON_TAG) ?? [];
  if (tags.length === 0) return { ok: true, ssml };
  const rules = [];
  for (const tag of tags) {
    const uri = uriOf(tag);
    if (!uri) return { ok: false, reason: "A <lexicon> element has no uri attribute." };
    const fetched = await fetchLexicon(uri);
    if (!fetched.ok) return fetched;
    const lexicon = validateLexicon(fetched.text);
    if (!lexicon.ok) {
      const issue = lexicon.issues[0];
      return {
        ok: false,
        reason: `The custom lexicon at ${withoutQuery(uri)} is invalid: ${issue?.message ?? "?"}.`,
      };
    }
    rules.push(...rulesFromLexicon(lexicon.value));
  }
  const stripped = withoutLexiconElements(ssml);
  // Earlier lexicons have priority (docs: the order of lexicon elements), as the matcher prefers earlier rules.
  const applied = pronounceSsml(stripped, new PronunciationMatcher(rules), {});
  return { ok: true, ssml: applied?.ssml ?? stripped };
}
