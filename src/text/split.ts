import { decodeXmlEntities, escapeXml, stripBom, textParagraphs } from "./ssml.js";

/**
 * One realtime request may produce at most 10 minutes of audio; about 9,200 characters of a European
 * language fill that (batch-synthesis-api.md §8), so 9,000 leaves a margin.
 */
export const REALTIME_MAX_CHARACTERS = 9_000;

/**
 * CJK text is spoken about 2.8 times slower per character (~3,300 characters per 10 minutes), so its
 * characters weigh more when measuring how much audio a chunk will make.
 */
const SLOW_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const SLOW_SCRIPT_WEIGHT = 2.75;

/** How much audio a piece of text makes, in "European characters". */
export function speechWeight(text: string): number {
  let weight = 0;
  for (const char of text) weight += SLOW_SCRIPT.test(char) ? SLOW_SCRIPT_WEIGHT : 1;
  return weight;
}

export interface SplitOptions {
  /** Largest weight (see {@link speechWeight}) of one chunk; default {@link REALTIME_MAX_CHARACTERS}. */
  maxCharacters?: number;
  /** Locale for sentence and word segmentation; default "en". */
  locale?: string;
}

/** Break quality after a piece: the splitter prefers the best one available. */
enum Break {
  None = 0,
  Word = 1,
  Sentence = 2,
  Paragraph = 3,
}

interface Piece {
  /** Raw text (escaped XML for SSML). */
  raw: string;
  weight: number;
  breakAfter: Break;
  /** Open-tag stack (raw start tags) in force before this piece (SSML only). */
  openBefore: readonly OpenTag[];
  /** Open-tag stack after this piece. */
  openAfter: readonly OpenTag[];
}

interface OpenTag {
  name: string;
  raw: string;
}

function segments(text: string, granularity: "sentence" | "word", locale: string): string[] {
  const segmenter = new Intl.Segmenter(locale, { granularity });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/**
 * Splits text into sentence pieces, and sentences longer than the limit into word pieces. Segmentation
 * runs on the decoded text and every piece is re-encoded, so a cut never falls inside an entity.
 */
function textPieces(
  text: string,
  max: number,
  locale: string,
  open: readonly OpenTag[],
  encode: (plain: string) => string,
): Piece[] {
  const pieces: Piece[] = [];
  const piece = (plain: string, breakAfter: Break): Piece => ({
    raw: encode(plain),
    weight: speechWeight(plain),
    breakAfter,
    openBefore: open,
    openAfter: open,
  });
  for (const sentence of segments(text, "sentence", locale)) {
    if (speechWeight(sentence) <= max) {
      pieces.push(piece(sentence, Break.Sentence));
      continue;
    }
    for (const word of segments(sentence, "word", locale)) {
      // A single "word" over the limit (no spaces at all) is cut by code points as a last resort.
      let current = "";
      for (const char of word) {
        if (current && speechWeight(current + char) > max) {
          pieces.push(piece(current, Break.Word));
          current = "";
        }
        current += char;
      }
      if (current) pieces.push(piece(current, Break.Word));
    }
    const last = pieces.at(-1);
    if (last) last.breakAfter = Break.Sentence;
  }
  return pieces;
}

/** Greedy packing: fill a chunk, then cut at the best break point in it (paragraph > sentence > word). */
function pack(pieces: Piece[], max: number): Piece[][] {
  const chunks: Piece[][] = [];
  let start = 0;
  while (start < pieces.length) {
    let weight = 0;
    let end = start;
    while (end < pieces.length && (end === start || weight + (pieces[end]?.weight ?? 0) <= max)) {
      weight += pieces[end]?.weight ?? 0;
      end++;
    }
    if (end < pieces.length) {
      // Cut after the best break between start and end; ties go to the latest (fuller chunk).
      let best = end;
      let bestRank = Break.None;
      for (let i = start; i < end; i++) {
        const rank = pieces[i]?.breakAfter ?? Break.None;
        if (rank >= bestRank && rank > Break.None) {
          best = i + 1;
          bestRank = rank;
        }
      }
      end = best;
    }
    chunks.push(pieces.slice(start, end));
    start = end;
  }
  return chunks;
}

/**
 * Splits plain text into chunks of at most `maxCharacters` (weighted, see {@link speechWeight}), at
 * paragraph boundaries first, then sentences, then words. Paragraphs in a chunk are joined by a blank line.
 */
export function splitText(text: string, options: SplitOptions = {}): string[] {
  const max = options.maxCharacters ?? REALTIME_MAX_CHARACTERS;
  const locale = options.locale ?? "en";
  const pieces: Piece[] = [];
  for (const paragraph of textParagraphs(text)) {
    const own = textPieces(paragraph, max, locale, [], (plain) => plain);
    const last = own.at(-1);
    if (last) last.breakAfter = Break.Paragraph;
    pieces.push(...own);
  }
  return pack(pieces, max).map((chunk) => {
    let out = "";
    chunk.forEach((piece, i) => {
      out += piece.raw;
      if (piece.breakAfter === Break.Paragraph && i < chunk.length - 1) out = `${out.trimEnd()}\n\n`;
    });
    return out.trim();
  });
}

/** Elements whose text may be cut between sentences; anything else (say-as, phoneme, sub, audio…) stays whole. */
const SPLITTABLE = new Set([
  "speak",
  "voice",
  "prosody",
  "mstts:express-as",
  "lang",
  "p",
  "s",
  "emphasis",
  "mstts:silence",
]);
const PARAGRAPH_ELEMENTS = new Set(["p", "voice"]);

const TOKEN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<\/?[^>]+>|[^<]+/g;

/** Weight of escaped text: entities count as the one character they stand for. */
function escapedWeight(raw: string): number {
  return speechWeight(decodeXmlEntities(raw));
}

/**
 * Splits an SSML document into complete SSML documents of at most `maxCharacters` of spoken text
 * each, never inside an element that must stay whole and never inside a tag or an entity: at a cut,
 * every open element (speak, voice, prosody, p…) is closed and reopened with the same attributes in
 * the next chunk. The XML declaration is dropped (each chunk starts with `<speak>`).
 */
export function splitSsml(ssml: string, options: SplitOptions = {}): string[] {
  const max = options.maxCharacters ?? REALTIME_MAX_CHARACTERS;
  const locale = options.locale ?? "en";
  const tokens = stripBom(ssml).trim().match(TOKEN) ?? [];
  const pieces: Piece[] = [];
  let stack: OpenTag[] = [];
  // An element that must stay whole, collected until its end tag closes it.
  let atomic: { raw: string; depth: number; openBefore: OpenTag[] } | undefined;

  // Markup weighs nothing: it makes no audio.
  const pushMarkup = (raw: string, openBefore: OpenTag[], openAfter: OpenTag[], breakAfter: Break) => {
    pieces.push({ raw, weight: 0, breakAfter, openBefore, openAfter });
  };

  for (const token of tokens) {
    if (token.startsWith("<?") || token.startsWith("<!--")) continue;
    const isTag = token.startsWith("<") && !token.startsWith("<![CDATA[");
    const name = isTag ? (/^<\/?\s*([^\s/>]+)/.exec(token)?.[1] ?? "") : "";
    const closing = isTag && token.startsWith("</");
    const selfClosing = isTag && token.endsWith("/>");
    if (atomic) {
      atomic.raw += token;
      if (isTag && !selfClosing) {
        if (closing) stack = stack.slice(0, -1);
        else stack = [...stack, { name, raw: token }];
      }
      if (stack.length === atomic.depth) {
        pieces.push({
          raw: atomic.raw,
          weight: escapedWeight(atomic.raw.replace(/<[^>]+>/g, "")),
          breakAfter: Break.Word,
          openBefore: atomic.openBefore,
          openAfter: stack,
        });
        atomic = undefined;
      }
      continue;
    }
    if (!isTag) {
      if (token.startsWith("<![CDATA[")) {
        pieces.push({
          raw: token,
          weight: speechWeight(token.slice(9, -3)),
          breakAfter: Break.Word,
          openBefore: stack,
          openAfter: stack,
        });
      } else {
        pieces.push(...textPieces(decodeXmlEntities(token), max, locale, stack, escapeXml));
      }
      continue;
    }
    const before = stack;
    if (selfClosing) {
      pushMarkup(token, before, before, Break.Word);
    } else if (closing) {
      stack = stack.slice(0, -1);
      pushMarkup(token, before, stack, PARAGRAPH_ELEMENTS.has(name) ? Break.Paragraph : Break.None);
    } else if (SPLITTABLE.has(name)) {
      stack = [...stack, { name, raw: token }];
      pushMarkup(token, before, stack, Break.None);
    } else {
      atomic = { raw: token, depth: stack.length, openBefore: before };
      stack = [...stack, { name, raw: token }];
    }
  }
  if (atomic) throw new RangeError("The SSML is not well-formed: an element is never closed.");

  return pack(pieces, max)
    .map((chunk) => {
      const first = chunk[0];
      const last = chunk.at(-1);
      if (!first || !last) return "";
      const reopen = first.openBefore.map((t) => t.raw).join("");
      const close = [...last.openAfter]
        .reverse()
        .map((t) => `</${t.name}>`)
        .join("");
      return reopen + chunk.map((p) => p.raw).join("") + close;
    })
    .filter((chunk) => /[^\s]/.test(decodeXmlEntities(chunk.replace(/<[^>]+>/g, ""))));
}

/**
 * Splits text or SSML for the realtime endpoint: SSML (anything starting with `<speak` after a BOM
 * and an optional XML declaration) with {@link splitSsml}, plain text with {@link splitText}.
 */
export function splitForRealtime(textOrSsml: string, options: SplitOptions = {}): string[] {
  const head = stripBom(textOrSsml)
    .trimStart()
    .replace(/^<\?xml[\s\S]*?\?>\s*/, "");
  return head.startsWith("<speak") ? splitSsml(textOrSsml, options) : splitText(textOrSsml, options);
}

/** Audio the realtime endpoint returns at most; longer audio is cut silently (rest-text-to-speech.md, "Sample request"). */
export const REALTIME_MAX_AUDIO_MS = 10 * 60 * 1000;

/**
 * Spoken characters per word assumed when sizing realtime chunks. The docs' ~9,200 characters per 10 minutes at
 * ~150 words a minute (batch-synthesis-api.md §8) is ~6.1; 5.5 is on the safe side: text of short words makes more
 * words, hence more audio, per character.
 */
const CHARACTERS_PER_WORD = 5.5;
/** Words a minute when the voice list does not say (en-US-JennyNeural's documented `WordsPerMinute` is 152). */
export const DEFAULT_WORDS_PER_MINUTE = 150;
/** Share of the 10 minutes a chunk may fill by estimate; the rest absorbs pauses, numbers and slow passages. */
const REALTIME_FILL = 0.85;

const NAMED_RATES: Record<string, number> = {
  "x-slow": 0.5,
  slow: 0.64,
  medium: 1,
  default: 1,
  fast: 1.55,
  "x-fast": 2,
};

/**
 * Speaking-rate multiplier of an SSML `<prosody rate>` value or a `synthesisConfig.rate`: named values
 * (x-slow 0.5, slow 0.64, medium 1, fast 1.55, x-fast 2), relative percentages ("-20%", "+30.00%"), and plain
 * multipliers ("0.8"), per the SSML reference (speech-synthesis-markup-voice.md, "Adjust prosody").
 * Unknown values count as 1 (the service ignores invalid values).
 */
export function prosodyRateFactor(rate: string | undefined): number {
  const value = rate?.trim().toLowerCase();
  if (!value) return 1;
  // Own keys only: "constructor" or "toString" are no rate names.
  if (Object.hasOwn(NAMED_RATES, value)) return NAMED_RATES[value] as number;
  const percent = /^([+-]?\d+(?:\.\d+)?)%$/.exec(value);
  const multiplier = /^(\d+(?:\.\d+)?)$/.exec(value);
  const factor = percent ? 1 + Number(percent[1]) / 100 : multiplier ? Number(multiplier[1]) : undefined;
  // One clamp for both notations: half to three times the default rate.
  return factor === undefined ? 1 : Math.min(3, Math.max(0.5, factor));
}

/** The slowest speaking rate in an SSML document (its `<prosody rate>` values), 1 when it sets none. */
export function slowestProsodyRate(ssml: string): number {
  let slowest = 1;
  for (const match of ssml.matchAll(/<prosody\b[^>]*\brate\s*=\s*(["'])(.*?)\1/gi))
    slowest = Math.min(slowest, prosodyRateFactor(match[2]));
  return slowest;
}

/**
 * Largest chunk (in {@link speechWeight} units) whose audio stays under the realtime cut: the voice's words per
 * minute times the slowest rate in play, times 10 minutes, with a margin. E.g. 150 wpm at rate 1 → ~7,000
 * characters; at "-20%" → ~5,600.
 */
export function realtimeChunkCharacters(
  options: { wordsPerMinute?: number; rateFactor?: number } = {},
): number {
  const wpm =
    options.wordsPerMinute && options.wordsPerMinute > 0 ? options.wordsPerMinute : DEFAULT_WORDS_PER_MINUTE;
  const rate = options.rateFactor && options.rateFactor > 0 ? options.rateFactor : 1;
  const minutes = REALTIME_MAX_AUDIO_MS / 60_000;
  return Math.max(200, Math.floor(wpm * rate * minutes * CHARACTERS_PER_WORD * REALTIME_FILL));
}
