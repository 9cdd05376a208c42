import { createHash } from "node:crypto";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { z } from "zod";
import { decodeXmlEntities, escapeXml, speakDocument, stripBom, textParagraphs } from "./ssml.js";

/**
 * A project's pronunciation list (`pronunciations.json`) and PLS lexicon (`lexicon.pls`): validation,
 * matching, and the SSML that applies them. Azure's elements (docs: speech-synthesis-markup-pronunciation,
 * https://learn.microsoft.com/azure/ai-services/speech-service/speech-synthesis-markup-pronunciation):
 * `<sub alias>` says the alias instead of the text, `<phoneme alphabet ph>` says the phones, and
 * `<lexicon uri>` loads a W3C PLS file (at most 100 KB, case-sensitive lexemes, alphabet `ipa` or
 * `x-microsoft-sapi`, one locale). See docs/pronunciation.md.
 */

/** Phonetic alphabets of `<phoneme alphabet>` (the docs' list; lower case as the service requires). */
export const PHONEME_ALPHABETS = ["ipa", "sapi", "ups", "x-sampa"] as const;
export type PhonemeAlphabet = (typeof PHONEME_ALPHABETS)[number];

/** Alphabets a PLS lexicon may declare on Azure. */
export const LEXICON_ALPHABETS = ["ipa", "x-microsoft-sapi"] as const;

/** Azure refuses a custom lexicon file over 100 KB. */
export const MAX_LEXICON_BYTES = 100 * 1024;
export const MAX_PRONUNCIATION_ENTRIES = 5000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const noMarkupControl = (value: string) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(value);

export const pronunciationEntrySchema = z
  .strictObject({
    text: z
      .string()
      .trim()
      .min(1, "text must not be empty")
      .max(200, "text is longer than 200 characters")
      .refine(noMarkupControl, "text holds control characters"),
    alias: z.string().trim().min(1, "alias must not be empty").max(400).optional(),
    phoneme: z
      .string()
      .trim()
      .min(1, "phoneme must not be empty")
      .max(400)
      .refine(noMarkupControl, "phoneme holds control characters")
      .optional(),
    alphabet: z.enum(PHONEME_ALPHABETS).optional(),
    caseSensitive: z.boolean().optional(),
    wholeWord: z.boolean().optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.alias === undefined) === (entry.phoneme === undefined)) {
      ctx.addIssue({ code: "custom", message: "give exactly one of alias or phoneme" });
    }
    if (entry.alphabet && entry.phoneme === undefined) {
      ctx.addIssue({ code: "custom", path: ["alphabet"], message: "alphabet only goes with phoneme" });
    }
  });
export type PronunciationEntry = z.infer<typeof pronunciationEntrySchema>;

/** One problem of a list or lexicon, naming the entry (index and text) it belongs to. */
export interface PronunciationIssue {
  file: "pronunciations.json" | "lexicon.pls";
  /** 0-based position of the entry (or lexeme); absent for problems of the whole file. */
  entry?: number;
  text?: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: PronunciationIssue[] };

/** Validates a parsed `pronunciations.json`: an array of entries, no text listed twice with the same case rule. */
export function validatePronunciationList(raw: unknown): Validated<PronunciationEntry[]> {
  const file = "pronunciations.json" as const;
  if (!Array.isArray(raw))
    return { ok: false, issues: [{ file, message: "must be a JSON array of entries" }] };
  if (raw.length > MAX_PRONUNCIATION_ENTRIES)
    return { ok: false, issues: [{ file, message: `has more than ${MAX_PRONUNCIATION_ENTRIES} entries` }] };
  const issues: PronunciationIssue[] = [];
  const entries: PronunciationEntry[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item, index) => {
    const text =
      item && typeof item === "object" && typeof (item as { text?: unknown }).text === "string"
        ? (item as { text: string }).text
        : undefined;
    const parsed = pronunciationEntrySchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
        issues.push({
          file,
          entry: index,
          ...(text !== undefined ? { text } : {}),
          message: where + issue.message,
        });
      }
      return;
    }
    const entry = parsed.data;
    const key = entry.caseSensitive ? `=${entry.text}` : `~${entry.text.toLocaleLowerCase("en")}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({
        file,
        entry: index,
        text: entry.text,
        message: `listed twice (first at entry ${first})`,
      });
      return;
    }
    seen.set(key, index);
    entries.push(entry);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: entries };
}

export interface Lexeme {
  graphemes: string[];
  alias?: string;
  phoneme?: string;
}

export interface Lexicon {
  lang: string;
  alphabet: (typeof LEXICON_ALPHABETS)[number];
  lexemes: Lexeme[];
}

const PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon";

const plsParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  parseTagValue: false,
  isArray: (name) => ["lexeme", "grapheme", "phoneme", "alias", "example"].includes(name),
});

type XmlNode = Record<string, unknown>;
const textOf = (value: unknown): string | undefined => {
  if (typeof value === "string") return value.trim();
  if (value && typeof value === "object" && "#text" in value)
    return String((value as XmlNode)["#text"]).trim();
  if (value && typeof value === "object") return "";
  return undefined;
};

/**
 * Validates a W3C PLS 1.0 document the way Azure reads it: well-formed, `<lexicon version="1.0">` in the
 * PLS namespace with `xml:lang` and an `ipa`/`x-microsoft-sapi` alphabet, at most 100 KB, and lexemes
 * each with at least one non-empty grapheme and an alias or phoneme (an IPA phoneme has no white space).
 */
export function validateLexicon(source: string): Validated<Lexicon> {
  const file = "lexicon.pls" as const;
  const fail = (message: string, entry?: number, text?: string): Validated<Lexicon> => ({
    ok: false,
    issues: [{ file, message, ...(entry !== undefined ? { entry } : {}), ...(text ? { text } : {}) }],
  });
  if (Buffer.byteLength(source, "utf8") > MAX_LEXICON_BYTES)
    return fail("is larger than 100 KB (Azure's limit for a custom lexicon)");
  const xml = stripBom(source).trim();
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) {
    const { msg, line, col } = wellFormed.err;
    return fail(`is not well-formed XML (line ${line}, column ${col}): ${msg}`);
  }
  const doc = plsParser.parse(xml) as XmlNode;
  const roots = Object.keys(doc).filter((k) => !k.startsWith("?") && k !== "#text");
  const root = doc["lexicon"] as XmlNode | undefined;
  if (roots.length !== 1 || !root || typeof root !== "object")
    return fail(`root element must be <lexicon> (found <${roots[0] ?? "nothing"}>)`);
  if (root["@_version"] !== "1.0") return fail('<lexicon> needs version="1.0"');
  if (root["@_xmlns"] !== PLS_NAMESPACE) return fail(`<lexicon> needs xmlns="${PLS_NAMESPACE}"`);
  const lang = root["@_xml:lang"];
  if (typeof lang !== "string" || !/^[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(lang))
    return fail("<lexicon> needs an xml:lang locale such as en-US");
  const alphabet = root["@_alphabet"];
  if (!LEXICON_ALPHABETS.includes(alphabet as Lexicon["alphabet"]))
    return fail(`<lexicon> alphabet must be one of ${LEXICON_ALPHABETS.join(", ")}`);
  const rawLexemes = (root["lexeme"] as XmlNode[] | undefined) ?? [];
  if (rawLexemes.length === 0) return fail("has no <lexeme>");
  const lexemes: Lexeme[] = [];
  for (const [index, lexeme] of rawLexemes.entries()) {
    const graphemes = ((lexeme["grapheme"] as unknown[] | undefined) ?? []).map(textOf);
    const first = graphemes.find((g) => g) ?? undefined;
    if (graphemes.length === 0 || graphemes.some((g) => !g))
      return fail("every <lexeme> needs non-empty <grapheme> elements", index, first);
    const alias = ((lexeme["alias"] as unknown[] | undefined) ?? []).map(textOf)[0];
    const phoneme = ((lexeme["phoneme"] as unknown[] | undefined) ?? []).map(textOf)[0];
    if (!alias && !phoneme) return fail("a <lexeme> needs an <alias> or a <phoneme>", index, first);
    if (phoneme && alphabet === "ipa" && /\s/.test(phoneme))
      return fail("an IPA <phoneme> cannot contain white space", index, first);
    lexemes.push({
      graphemes: graphemes as string[],
      ...(alias ? { alias } : {}),
      ...(phoneme ? { phoneme } : {}),
    });
  }
  return { ok: true, value: { lang, alphabet: alphabet as Lexicon["alphabet"], lexemes } };
}

/** One thing to find in chapter text and what to say instead. */
export interface PronunciationRule {
  /** Canonical JSON of the entry or lexeme: what its hash is made of. */
  key: string;
  text: string;
  caseSensitive: boolean;
  wholeWord: boolean;
  say: { alias: string } | { phoneme: string; alphabet: string };
  /** From lexicon.pls: applied by the service through `<lexicon uri>` in batch, never inlined there. */
  fromLexicon: boolean;
}

/** Rules of a list: case-insensitive and whole-word unless the entry says otherwise. */
export function rulesFromEntries(entries: readonly PronunciationEntry[]): PronunciationRule[] {
  return entries.map((e) => {
    const caseSensitive = e.caseSensitive ?? false;
    const wholeWord = e.wholeWord ?? true;
    const say =
      e.alias !== undefined
        ? { alias: e.alias }
        : { phoneme: e.phoneme ?? "", alphabet: e.alphabet ?? "ipa" };
    return {
      key: JSON.stringify({ text: e.text, caseSensitive, wholeWord, ...say }),
      text: e.text,
      caseSensitive,
      wholeWord,
      say,
      fromLexicon: false,
    };
  });
}

/**
 * Rules of a lexicon: lexemes are case-sensitive on Azure; whole words; the alias wins over the phoneme
 * (as the docs say). The lexicon's locale and alphabet are part of every key.
 */
export function rulesFromLexicon(lexicon: Lexicon): PronunciationRule[] {
  const alphabet = lexicon.alphabet === "x-microsoft-sapi" ? "sapi" : "ipa";
  return lexicon.lexemes.flatMap((l) =>
    l.graphemes.map((grapheme) => {
      const say = l.alias ? { alias: l.alias } : { phoneme: l.phoneme ?? "", alphabet };
      return {
        key: JSON.stringify({ lexicon: lexicon.lang, alphabet: lexicon.alphabet, grapheme, ...say }),
        text: grapheme,
        caseSensitive: true,
        wholeWord: true,
        say,
        fromLexicon: true,
      };
    }),
  );
}

export interface Match {
  start: number;
  end: number;
  rule: PronunciationRule;
}

const WORD_CHAR = "[\\p{L}\\p{M}\\p{N}_]";
/**
 * Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Burmese) and Korean,
 * whose particles join the word before them: there a term ends where its characters end, so whole-word
 * matching cannot ask for a non-letter next to it (it never matched `東京` in `東京に行く`).
 */
const UNSPACED =
  "[\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}\\p{sc=Hangul}\\p{sc=Thai}\\p{sc=Lao}\\p{sc=Khmer}\\p{sc=Myanmar}]";
const UNSPACED_CHAR = new RegExp(`^${UNSPACED}$`, "u");
/** A letter of another word next to a term: a word character of a script written with spaces. */
const SPACED_WORD_CHAR = `(?:(?!${UNSPACED})${WORD_CHAR})`;

/** Whole-word boundaries of a term: none at an edge in an unspaced script, none against unspaced text. */
function wholeWordPattern(text: string, body: string): string {
  const chars = [...text];
  const before = UNSPACED_CHAR.test(chars[0] ?? "") ? "" : `(?<!${SPACED_WORD_CHAR})`;
  const after = UNSPACED_CHAR.test(chars.at(-1) ?? "") ? "" : `(?!${SPACED_WORD_CHAR})`;
  return before + body + after;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Lower case for a quick substring test (final sigma folded, as the regular expressions' `i` flag does). */
function fold(text: string): string {
  return text.toLowerCase().replace(/ς/g, "σ");
}

/**
 * Compiled rules: one regular expression per rule, run only when a quick substring test finds the term's
 * first word in the text (a list of hundreds of names costs microseconds per name on a chapter that
 * lacks it). Overlaps resolve leftmost, then longest, then the earlier rule (list entries before lexemes).
 */
export class PronunciationMatcher {
  private readonly compiled: { rule: PronunciationRule; pattern: RegExp; needle: string }[];

  constructor(readonly rules: readonly PronunciationRule[]) {
    this.compiled = rules.map((rule) => {
      // Inner white space of a multi-word term matches any run of white space (line breaks in a paragraph).
      const words = rule.text.split(/\s+/u);
      const body = words.map(escapeRegExp).join("\\s+");
      const source = rule.wholeWord ? wholeWordPattern(rule.text, body) : body;
      const first = words[0] ?? rule.text;
      return {
        rule,
        pattern: new RegExp(source, rule.caseSensitive ? "gu" : "giu"),
        needle: rule.caseSensitive ? first : fold(first),
      };
    });
  }

  get size(): number {
    return this.rules.length;
  }

  /** Non-overlapping matches in text order; at one position the longest wins, then the earlier rule. */
  find(text: string): Match[] {
    const all: (Match & { order: number })[] = [];
    const folded = this.compiled.some((c) => !c.rule.caseSensitive) ? fold(text) : text;
    for (const [order, { rule, pattern, needle }] of this.compiled.entries()) {
      if (!(rule.caseSensitive ? text : folded).includes(needle)) continue;
      pattern.lastIndex = 0;
      for (const m of text.matchAll(pattern)) {
        if (m[0].length > 0) all.push({ start: m.index, end: m.index + m[0].length, rule, order });
      }
    }
    all.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || a.order - b.order);
    const out: Match[] = [];
    let cursor = 0;
    for (const { order: _order, ...m } of all) {
      if (m.start < cursor) continue;
      out.push(m);
      cursor = m.end;
    }
    return out;
  }
}

/** The SSML element that says a matched text the rule's way (text and attributes escaped). */
export function pronouncedElement(written: string, rule: PronunciationRule): string {
  if ("alias" in rule.say) return `<sub alias="${escapeXml(rule.say.alias)}">${escapeXml(written)}</sub>`;
  return `<phoneme alphabet="${escapeXml(rule.say.alphabet)}" ph="${escapeXml(rule.say.phoneme)}">${escapeXml(written)}</phoneme>`;
}

/** Plain text with matches replaced by their elements, everything else escaped. */
function rewriteSegment(text: string, matches: readonly Match[]): string {
  let out = "";
  let cursor = 0;
  for (const m of matches) {
    out += escapeXml(text.slice(cursor, m.start)) + pronouncedElement(text.slice(m.start, m.end), m.rule);
    cursor = m.end;
  }
  return out + escapeXml(text.slice(cursor));
}

/** Hash of the rules a chapter uses (sorted, deduplicated): what decides whether its audio is still current. */
export function rulesHash(rules: Iterable<PronunciationRule>): string {
  const keys = [...new Set([...rules].map((r) => r.key))].sort();
  return createHash("sha256").update(JSON.stringify(keys), "utf8").digest("hex");
}

/**
 * The chapter's change-detection hash with its pronunciations folded in: the text hash when no rule
 * applies (so a list edit leaves such chapters unchanged), else a hash of the text hash and the used rules.
 */
export function foldPronunciationHash(textSha256: string, usedRulesHash: string | undefined): string {
  if (!usedRulesHash) return textSha256;
  return createHash("sha256").update(`${textSha256}\npronunciations:${usedRulesHash}`, "utf8").digest("hex");
}

export interface PronouncedInput {
  /** The SSML document to send. */
  ssml: string;
  /** Rules that matched somewhere (lexicon rules included, even when applied through `<lexicon uri>`). */
  used: PronunciationRule[];
  /** Whether a `<lexicon uri>` element was put in. */
  usesLexicon: boolean;
}

export interface PronounceOptions {
  voice: string;
  /**
   * URI of the lexicon for `<lexicon uri>`; when given, lexicon rules are left to the service. Without
   * it they are inlined as `<sub>`/`<phoneme>` (realtime, where long chapters are split into requests).
   */
  lexiconUri?: string;
}

/**
 * The rules found in the stretches of one input: every match counts as used; with a lexicon URI, lexicon
 * matches are left to the service (`<lexicon uri>`) instead of inlined.
 */
class RuleUse {
  readonly used: PronunciationRule[] = [];
  /** A lexicon rule matched and was left to `<lexicon uri>`. */
  lexiconHit = false;

  constructor(
    private readonly matcher: PronunciationMatcher,
    private readonly lexiconUri: string | undefined,
  ) {}

  /** The matches to inline in `text`; undefined when no rule matches there at all. */
  inline(text: string): Match[] | undefined {
    const matches = this.matcher.find(text);
    if (matches.length === 0) return undefined;
    this.used.push(...matches.map((m) => m.rule));
    const inline = this.lexiconUri ? matches.filter((m) => !m.rule.fromLexicon) : matches;
    if (inline.length < matches.length) this.lexiconHit = true;
    return inline;
  }
}

function lexiconElement(uri: string): string {
  return `<lexicon uri="${escapeXml(uri)}"/>`;
}

/**
 * Plain text -> SSML with the rules applied (paragraphs as `<p>`, like `textToSsml`), or undefined when no
 * rule matches (the chapter is then sent as it is).
 */
export function pronounceText(
  text: string,
  matcher: PronunciationMatcher,
  options: PronounceOptions,
): PronouncedInput | undefined {
  if (matcher.size === 0) return undefined;
  const use = new RuleUse(matcher, options.lexiconUri);
  const paragraphs = textParagraphs(text).map((p) => `<p>${rewriteSegment(p, use.inline(p) ?? [])}</p>`);
  if (use.used.length === 0) return undefined;
  const lexicon = use.lexiconHit && options.lexiconUri ? lexiconElement(options.lexiconUri) : "";
  return {
    ssml: speakDocument(options.voice, lexicon + paragraphs.join("")),
    used: use.used,
    usesLexicon: lexicon !== "",
  };
}

/** Elements whose text is not re-pronounced: already substituted, spelled or not spoken. */
const SKIP_ELEMENTS = new Set([
  "sub",
  "phoneme",
  "say-as",
  "lexicon",
  "math",
  "bookmark",
  "mstts:backgroundaudio",
  "audio",
]);
const SSML_TOKEN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<[^>]*>|[^<]+/g;

/**
 * A user's SSML document with the rules applied to its text (outside attributes, comments and elements
 * such as `<sub>` or `<phoneme>` that already say how), and a `<lexicon uri>` after every `<voice>` open
 * tag when lexicon rules are left to the service. Undefined when nothing matches.
 */
export function pronounceSsml(
  ssml: string,
  matcher: PronunciationMatcher,
  options: Omit<PronounceOptions, "voice">,
): PronouncedInput | undefined {
  if (matcher.size === 0) return undefined;
  const use = new RuleUse(matcher, options.lexiconUri);
  const skip: string[] = [];
  let out = "";
  for (const token of stripBom(ssml).match(SSML_TOKEN) ?? []) {
    if (token.startsWith("<")) {
      const name = /^<\/?\s*([^\s/>!?]+)/.exec(token)?.[1];
      if (name && !token.startsWith("<!") && !token.startsWith("<?")) {
        const closing = token.startsWith("</");
        const selfClosing = token.endsWith("/>");
        if (skip.length > 0) {
          if (closing && skip[skip.length - 1] === name) skip.pop();
          else if (!closing && !selfClosing && name === skip[skip.length - 1]) skip.push(name);
        } else if (!closing && !selfClosing && SKIP_ELEMENTS.has(name)) {
          skip.push(name);
        }
      }
      out += token;
      continue;
    }
    if (skip.length > 0) {
      out += token;
      continue;
    }
    const text = decodeXmlEntities(token);
    const inline = use.inline(text);
    out += inline && inline.length > 0 ? rewriteSegment(text, inline) : token;
  }
  if (use.used.length === 0) return undefined;
  let usesLexicon = false;
  if (use.lexiconHit && options.lexiconUri) {
    const element = lexiconElement(options.lexiconUri);
    out = out.replace(/<voice\b[^>]*[^/]>/g, (open) => {
      usesLexicon = true;
      return open + element;
    });
  }
  return { ssml: out, used: use.used, usesLexicon };
}

/** Removes `<lexicon …/>` elements (the realtime path inlines the lexicon instead). */
export function withoutLexiconElements(ssml: string): string {
  return ssml.replace(/<lexicon\b[^>]*\/>|<lexicon\b[^>]*>[\s\S]*?<\/lexicon>/g, "");
}
