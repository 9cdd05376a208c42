import { createHash } from "node:crypto";
import { compare } from "natural-orderby";
import type { ChapterKind } from "./schema.js";

/**
 * Chapters of a project, pure: which blobs are chapters (natural order), how their bytes are decoded,
 * hashed and counted. The rest of planning's core: packing.ts (jobs), changes.ts (what needs synthesis),
 * assess.ts (one chapter's verdict); the I/O is in planRun.ts.
 */

export type RejectReason = "empty" | "invalid-encoding" | "too-large" | "invalid-ssml";

export interface ChapterSource {
  chapterId: string;
  /** 0-based position in natural order among the project's chapters. */
  index: number;
  /** Blob name in the chapters container, e.g. `book/ch2.txt`. */
  sourceBlob: string;
  kind: ChapterKind;
}

export interface ProjectListing {
  chapters: ChapterSource[];
  /** Names (relative to the project folder) that are neither chapters nor project.json. */
  ignored: string[];
  hasProjectFile: boolean;
}

export const PROJECT_FILE_NAME = "project.json";
/** Project files that are neither chapters nor ignored: the pronunciation list and lexicon (issue 14). */
const PROJECT_SETTINGS_FILES = new Set(["pronunciations.json", "lexicon.pls"]);
const CHAPTER_EXTENSIONS: Record<string, ChapterKind> = { ".txt": "text", ".ssml": "ssml" };

/** Natural order ("ch2" before "ch10"), stable for names differing only in case. */
export function naturalCompare(a: string, b: string): number {
  return compare()(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Sorts the blob names under `{projectId}/` into chapters (direct children ending in .txt/.ssml),
 * the project file and ignored names. A chapter id seen twice (`a.txt` and `a.ssml`) keeps the first
 * in natural order; the other is ignored.
 */
export function classifyProjectBlobs(projectId: string, blobNames: readonly string[]): ProjectListing {
  const prefix = `${projectId}/`;
  const ignored: string[] = [];
  const candidates: { chapterId: string; sourceBlob: string; kind: ChapterKind; name: string }[] = [];
  let hasProjectFile = false;
  for (const blobName of blobNames) {
    if (!blobName.startsWith(prefix)) continue;
    const name = blobName.slice(prefix.length);
    if (name === PROJECT_FILE_NAME) {
      hasProjectFile = true;
      continue;
    }
    if (PROJECT_SETTINGS_FILES.has(name)) continue;
    const dot = name.lastIndexOf(".");
    const kind = dot > 0 ? CHAPTER_EXTENSIONS[name.slice(dot).toLowerCase()] : undefined;
    if (!kind || name.includes("/")) {
      ignored.push(name);
      continue;
    }
    candidates.push({ chapterId: name.slice(0, dot), sourceBlob: blobName, kind, name });
  }
  candidates.sort((a, b) => naturalCompare(a.chapterId, b.chapterId) || naturalCompare(a.name, b.name));
  const seen = new Set<string>();
  const chapters: ChapterSource[] = [];
  for (const c of candidates) {
    if (seen.has(c.chapterId)) {
      ignored.push(c.name);
      continue;
    }
    seen.add(c.chapterId);
    chapters.push({ chapterId: c.chapterId, index: chapters.length, sourceBlob: c.sourceBlob, kind: c.kind });
  }
  ignored.sort(naturalCompare);
  return { chapters, ignored, hasProjectFile };
}

const BOM = [0xef, 0xbb, 0xbf];
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decode with the BOM stripped; undefined when the bytes are not valid UTF-8. */
export function decodeChapterText(bytes: Uint8Array): string | undefined {
  const body = bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2] ? bytes.subarray(3) : bytes;
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Characters as a reader counts them (code points, not UTF-16 units). */
export function countCharacters(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Speaking rate of the voices (and of the Speech emulator, CONTRACT §6), whatever the word lengths. */
export const SPOKEN_WORDS_PER_MINUTE = 150;

/** Spoken words of a chapter: whitespace-separated tokens holding a letter or digit (SSML tags left out). */
export function countWords(text: string, kind: ChapterKind): number {
  const spoken = kind === "ssml" ? text.replace(/<[^>]*>/g, " ") : text;
  let n = 0;
  for (const token of spoken.split(/\s+/u)) if (/[\p{L}\p{N}]/u.test(token)) n++;
  return n;
}

export function estimateAudioMsFromWords(words: number): number {
  return Math.round((words / SPOKEN_WORDS_PER_MINUTE) * 60_000);
}
