/**
 * SubRip subtitles from word boundaries: cues of one line of at most {@link MAX_CUE_CHARACTERS}
 * characters and at most {@link MAX_CUE_MS}, cut at sentence ends and at long pauses.
 */

import type { WordBoundary } from "../speech/models.js";
import { decodeXmlEntities } from "../text/index.js";

export interface SrtCue {
  startMs: number;
  endMs: number;
  text: string;
}

export const MAX_CUE_CHARACTERS = 42;
export const MAX_CUE_MS = 6_000;
/** A pause this long between words starts a new cue. */
export const CUE_BREAK_PAUSE_MS = 700;
/** Cues stay on screen at least this long when the next cue leaves room. */
export const MIN_CUE_MS = 800;

const PUNCTUATION_ONLY = /^[\p{P}\p{S}]+$/u;
const OPENING_PUNCTUATION = /^[([{«“‘"'¿¡]+$/u;
const SENTENCE_END = /[.!?…]["'”’)\]]*$/u;

/** Joins punctuation boundaries onto their word, as the service reports them separately. */
function mergePunctuation(words: readonly WordBoundary[]): WordBoundary[] {
  const out: WordBoundary[] = [];
  let pendingOpening = "";
  for (const w of words) {
    const text = w.text.trim();
    if (!text) continue;
    const last = out[out.length - 1];
    if (PUNCTUATION_ONLY.test(text) && !OPENING_PUNCTUATION.test(text) && last) {
      last.text += text;
      last.durationMs = Math.max(last.durationMs, w.offsetMs + w.durationMs - last.offsetMs);
      continue;
    }
    if (OPENING_PUNCTUATION.test(text)) {
      pendingOpening += text;
      continue;
    }
    out.push({ text: pendingOpening + text, offsetMs: w.offsetMs, durationMs: w.durationMs });
    pendingOpening = "";
  }
  return out;
}

export function buildCues(boundaries: readonly WordBoundary[]): SrtCue[] {
  const words = mergePunctuation([...boundaries].sort((a, b) => a.offsetMs - b.offsetMs));
  const cues: SrtCue[] = [];
  let current: WordBoundary[] = [];
  const flush = () => {
    const first = current[0];
    const last = current[current.length - 1];
    if (first && last) {
      cues.push({
        startMs: first.offsetMs,
        endMs: Math.max(last.offsetMs + last.durationMs, first.offsetMs + 1),
        text: current.map((w) => w.text).join(" "),
      });
    }
    current = [];
  };
  for (const word of words) {
    const first = current[0];
    const last = current[current.length - 1];
    if (first && last) {
      const length = current.reduce((n, w) => n + w.text.length + 1, 0) + word.text.length - 1;
      const tooLong = length > MAX_CUE_CHARACTERS;
      const tooSlow = word.offsetMs + word.durationMs - first.offsetMs > MAX_CUE_MS;
      const pause = word.offsetMs - (last.offsetMs + last.durationMs) > CUE_BREAK_PAUSE_MS;
      if (tooLong || tooSlow || pause || SENTENCE_END.test(last.text)) flush();
    }
    current.push(word);
  }
  flush();
  // Short cues linger until the next one starts (never overlapping it).
  for (const [i, cue] of cues.entries()) {
    const nextStart = cues[i + 1]?.startMs ?? Number.POSITIVE_INFINITY;
    if (cue.endMs - cue.startMs < MIN_CUE_MS) cue.endMs = Math.min(cue.startMs + MIN_CUE_MS, nextStart);
    if (cue.endMs > nextStart) cue.endMs = nextStart;
    if (cue.endMs <= cue.startMs) cue.endMs = cue.startMs + 1;
  }
  return cues;
}

/** `HH:MM:SS,mmm` */
export function formatSrtTime(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)},${pad(total % 1000, 3)}`;
}

/** A complete .srt document (CRLF-free, blank line between cues, trailing newline). */
export function buildSrt(boundaries: readonly WordBoundary[]): string {
  return buildCues(boundaries)
    .map((c, i) => `${i + 1}\n${formatSrtTime(c.startMs)} --> ${formatSrtTime(c.endMs)}\n${c.text}\n`)
    .join("\n");
}

/**
 * Word timings spread over `durationMs` in proportion to word length, for audio that came without
 * boundaries (realtime synthesis). Good enough for subtitles that follow the narration paragraph by
 * paragraph; batch synthesis gives exact ones.
 */
export function approximateWordBoundaries(text: string, durationMs: number): WordBoundary[] {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const weight = words.reduce((n, w) => n + w.length + 1, 0);
  if (words.length === 0 || durationMs <= 0) return [];
  const msPerUnit = durationMs / weight;
  const out: WordBoundary[] = [];
  let offset = 0;
  for (const word of words) {
    const duration = word.length * msPerUnit;
    out.push({ text: word, offsetMs: Math.round(offset), durationMs: Math.max(1, Math.round(duration)) });
    offset += (word.length + 1) * msPerUnit;
  }
  return out;
}

/** The spoken text of an SSML document, roughly: tags dropped, character references (named and numeric) decoded. */
export function ssmlToPlainText(ssml: string): string {
  return decodeXmlEntities(ssml.replace(/<[^>]*>/g, " "));
}
