import { XMLValidator } from "fast-xml-parser";
import { decodeXmlEntities } from "../../src/text/ssml.js";
import {
  CLAUSE_PAUSE_MS,
  LEADING_SILENCE_MS,
  MARKER_DEGRADE,
  MARKER_FAIL_ALWAYS,
  MARKER_FAIL_INPUT,
  MARKER_FAIL_JOB,
  MIN_WORD_MS,
  MS_PER_LETTER,
  MS_PER_WORD,
  PUNCTUATION_MARK_MS,
  SENTENCE_PAUSE_MS,
  TRAILING_SILENCE_MS,
  WORD_GAP_MS,
} from "./constants.js";
import type { Boundary } from "./model.js";

export interface SpeakableText {
  /** Plain text to speak (markup removed, entities decoded, fault markers removed). */
  text: string;
  /** BCP-47 language, e.g. "en-US". */
  language: string;
  voice: string | undefined;
}

export type SsmlParse = { ok: true; value: SpeakableText } | { ok: false; reason: string };

/** What an element that says how to pronounce its text speaks instead: `<sub alias>`, `<phoneme ph>`. */
const PRONOUNCED_ATTRIBUTE: Record<string, string> = { sub: "alias", phoneme: "ph" };

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name.replace(":", "\\:")}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  return match ? (match[2] ?? match[3]) : undefined;
}

/** Validates SSML the way the service needs it: well-formed XML, a `<speak>` root and a voice. */
export function parseSsml(content: string): SsmlParse {
  const trimmed = content.trim();
  const valid = XMLValidator.validate(trimmed);
  if (valid !== true) return { ok: false, reason: `The SSML is not well-formed XML: ${valid.err.msg}` };
  const body = trimmed.replace(/^<\?xml[^>]*\?>\s*/, "");
  const root = /^<([A-Za-z_][\w:.-]*)/.exec(body);
  if (root?.[1] !== "speak") return { ok: false, reason: "The SSML root element must be <speak>." };
  const speakTag = /^<speak\b[^>]*>/.exec(body)?.[0] ?? "";
  const voiceTag = /<voice\b[^>]*>/.exec(body)?.[0];
  const voice = voiceTag ? attribute(voiceTag, "name") : undefined;
  if (!voice) return { ok: false, reason: "The SSML must contain a <voice> element with a name." };
  // The voice decides the language (as on the service); `<speak xml:lang>` only when the name says nothing.
  const language = /^[a-z]{2,3}-[A-Za-z]{2,4}-/.test(voice)
    ? languageOfVoice(voice)
    : (attribute(speakTag, "xml:lang") ?? "en-US");
  const text = decodeXmlEntities(
    body
      .replace(/<break\b[^>]*\/>/g, (tag) => ` ${pauseMarker(breakMilliseconds(tag))} `)
      // Pronunciations: `<sub alias>` speaks the alias, `<phoneme ph>` the phones, instead of the written text.
      .replace(
        /(<(sub|phoneme)\b[^>]*>)[\s\S]*?<\/\2>/g,
        (_, open: string, name: string) => ` ${attribute(open, PRONOUNCED_ATTRIBUTE[name] ?? "") ?? ""} `,
      )
      .replace(/<\/?(p|s)\b[^>]*>/g, " ")
      .replace(/<[^>]+>/g, ""),
  );
  return { ok: true, value: { text: normaliseSpace(stripMarkers(text)), language, voice } };
}

export function plainTextToSpeakable(content: string, voice: string | undefined): SpeakableText {
  return { text: normaliseSpace(stripMarkers(content)), language: languageOfVoice(voice ?? "en-US"), voice };
}

/** "en-US-JennyNeural" -> "en-US". */
export function languageOfVoice(voice: string): string {
  const match = /^([a-z]{2,3})-([A-Za-z]{2,4})/.exec(voice);
  return match ? `${match[1]}-${match[2]}` : "en-US";
}

function normaliseSpace(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function stripMarkers(text: string): string {
  return text
    .split(MARKER_FAIL_INPUT)
    .join(" ")
    .split(MARKER_FAIL_ALWAYS)
    .join(" ")
    .split(MARKER_FAIL_JOB)
    .join(" ")
    .split(MARKER_DEGRADE)
    .join(" ");
}

export const markers = {
  failsInBatch: (content: string) =>
    content.includes(MARKER_FAIL_INPUT) || content.includes(MARKER_FAIL_ALWAYS),
  failsInRealtime: (content: string) => content.includes(MARKER_FAIL_ALWAYS),
  failsJob: (content: string) => content.includes(MARKER_FAIL_JOB),
  degrades: (content: string) => content.includes(MARKER_DEGRADE),
};

/** CJK ideographs (Chinese hanzi, Japanese kanji, Korean hanja) are billed twice (S12). */
const DOUBLE_BILLED = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2fa1f}]/u;

/**
 * Billable characters as Azure counts them (S12): every character of the input, punctuation, spaces and
 * SSML markup included, except the `<speak>` and `<voice>` tags; CJK ideographs count twice.
 */
export function billableCharacters(content: string, inputKind: "PlainText" | "SSML"): number {
  const counted =
    inputKind === "SSML"
      ? content.replace(/^\s*<\?xml[^>]*\?>/, "").replace(/<\/?(speak|voice)\b[^>]*>/g, "")
      : content;
  let total = 0;
  for (const ch of counted) total += DOUBLE_BILLED.test(ch) ? 2 : 1;
  return total;
}

export interface SpeechToken {
  text: string;
  kind: "word" | "punctuation";
  offsetMs: number;
  durationMs: number;
}

export interface SpeechPlan {
  tokens: SpeechToken[];
  /** Spans of sentences (text and time). */
  sentences: Boundary[];
  totalMs: number;
}

const TOKEN = /[\p{L}\p{N}][\p{L}\p{N}'’-]*|[.!?;:,…]|\u2063P(\d+)\u2063/gu;

/** SSML `<break>` survives text extraction as an invisible marker the timing model and espeak-ng honour. */
export function pauseMarker(ms: number): string {
  return `\u2063P${Math.round(ms)}\u2063`;
}
export const PAUSE_MARKER = /\u2063P(\d+)\u2063/g;

/** Azure's break strengths (medium is the default) and explicit times, capped at 20 s. */
const BREAK_STRENGTH_MS: Record<string, number> = {
  none: 0,
  "x-weak": 250,
  weak: 500,
  medium: 750,
  strong: 1000,
  "x-strong": 1250,
};
function breakMilliseconds(tag: string): number {
  const time = attribute(tag, "time");
  const match = time ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$/i.exec(time) : null;
  if (match) return Math.min(20_000, Number(match[1]) * (match[2]?.toLowerCase() === "s" ? 1000 : 1));
  return BREAK_STRENGTH_MS[attribute(tag, "strength") ?? "medium"] ?? 750;
}

/**
 * Timing model of a text spoken at ~150 words a minute: word durations follow their length, pauses follow
 * punctuation. Real speech (espeak-ng) is later fitted to it by scaling, so audio, summary and word
 * boundaries always agree.
 */
export function planSpeech(text: string): SpeechPlan {
  const tokens: SpeechToken[] = [];
  const sentences: Boundary[] = [];
  let cursor = LEADING_SILENCE_MS;
  let sentenceStart = -1;
  let sentenceWords: string[] = [];
  const closeSentence = (end: number) => {
    if (sentenceStart >= 0 && sentenceWords.length > 0) {
      sentences.push({
        Text: sentenceWords.join(" "),
        AudioOffset: sentenceStart,
        Duration: Math.max(1, end - sentenceStart),
      });
    }
    sentenceStart = -1;
    sentenceWords = [];
  };
  for (const match of text.matchAll(TOKEN)) {
    const value = match[0];
    if (match[1] !== undefined) {
      cursor += Number(match[1]);
      continue;
    }
    if (/^[\p{L}\p{N}]/u.test(value)) {
      const letters = [...value].length;
      const durationMs = Math.max(MIN_WORD_MS, MS_PER_WORD + letters * MS_PER_LETTER);
      if (sentenceStart < 0) sentenceStart = cursor;
      tokens.push({ text: value, kind: "word", offsetMs: cursor, durationMs });
      sentenceWords.push(value);
      cursor += durationMs + WORD_GAP_MS;
    } else {
      const last = tokens[tokens.length - 1];
      if (!last) continue;
      // The mark sits at the end of the previous word, like "." at 1700 ms in the S1 word.json example.
      const at = last.offsetMs + last.durationMs;
      tokens.push({ text: value, kind: "punctuation", offsetMs: at, durationMs: PUNCTUATION_MARK_MS });
      if (sentenceWords.length > 0) sentenceWords[sentenceWords.length - 1] += value;
      const sentenceEnd = /[.!?…]/.test(value);
      cursor =
        Math.max(cursor, at + PUNCTUATION_MARK_MS) + (sentenceEnd ? SENTENCE_PAUSE_MS : CLAUSE_PAUSE_MS);
      if (sentenceEnd) closeSentence(at + PUNCTUATION_MARK_MS);
    }
  }
  const lastToken = tokens[tokens.length - 1];
  const spokenEnd = lastToken ? lastToken.offsetMs + lastToken.durationMs : LEADING_SILENCE_MS;
  closeSentence(spokenEnd);
  return { tokens, sentences, totalMs: spokenEnd + TRAILING_SILENCE_MS };
}

/** Fits a plan to audio of another length (real speech), keeping the proportions. */
export function scalePlan(plan: SpeechPlan, totalMs: number): SpeechPlan {
  if (plan.totalMs <= 0) return { ...plan, totalMs };
  const factor = totalMs / plan.totalMs;
  return {
    tokens: plan.tokens.map((t) => ({
      ...t,
      offsetMs: t.offsetMs * factor,
      durationMs: t.durationMs * factor,
    })),
    sentences: plan.sentences.map((s) => ({
      ...s,
      AudioOffset: s.AudioOffset * factor,
      Duration: s.Duration * factor,
    })),
    totalMs,
  };
}

/** Slows a plan down by `factor` (offsets, durations and length); 1 returns it as it is. */
export function slowPlan(plan: SpeechPlan, factor: number): SpeechPlan {
  return factor === 1 ? plan : scalePlan(plan, plan.totalMs * factor);
}

/** Shifts a plan by an offset (concatenated results). */
export function shiftPlan(plan: SpeechPlan, offsetMs: number): SpeechPlan {
  return {
    tokens: plan.tokens.map((t) => ({ ...t, offsetMs: t.offsetMs + offsetMs })),
    sentences: plan.sentences.map((s) => ({ ...s, AudioOffset: s.AudioOffset + offsetMs })),
    totalMs: plan.totalMs,
  };
}

export function wordBoundaries(plan: SpeechPlan): Boundary[] {
  return plan.tokens.map((t) => ({
    Text: t.text,
    AudioOffset: Math.round(t.offsetMs),
    Duration: Math.round(t.durationMs),
  }));
}

export function sentenceBoundaries(plan: SpeechPlan): Boundary[] {
  return plan.sentences.map((s) => ({
    ...s,
    AudioOffset: Math.round(s.AudioOffset),
    Duration: Math.round(s.Duration),
  }));
}

/** Plans several texts spoken one after another (concatenated results share one timeline). */
export function planSegments(texts: string[]): SpeechPlan[] {
  let offset = 0;
  return texts.map((text) => {
    const plan = shiftPlan(planSpeech(text), offset);
    offset += plan.totalMs;
    return plan;
  });
}

/** The bytes of NNNN.word.json / NNNN.sentence.json for plans (one definition, so sizes are exact). */
export function boundaryJson(plans: SpeechPlan[], kind: "word" | "sentence"): Buffer {
  return Buffer.from(JSON.stringify(plans.flatMap(kind === "word" ? wordBoundaries : sentenceBoundaries)));
}
