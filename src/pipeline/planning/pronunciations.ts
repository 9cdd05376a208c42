import {
  type Lexicon,
  type PronouncedInput,
  type PronunciationEntry,
  type PronunciationIssue,
  PronunciationMatcher,
  pronounceSsml,
  pronounceText,
  rulesFromEntries,
  rulesFromLexicon,
  rulesHash,
  validateLexicon,
  validatePronunciationList,
  withoutLexiconElements,
} from "../../text/pronunciations.js";
import { escapeXml } from "../../text/ssml.js";
import { decodeChapterText } from "./chapters.js";
import type { ChapterKind } from "./schema.js";

/**
 * Pronunciations in the pipeline, the pure part: validating a project's list and lexicon (refused with
 * `invalid-pronunciations` before anything is planned), turning chapters that use a term into SSML at
 * planning time, the lexicon placeholder and its SAS window, and inlining a lexicon for realtime. The
 * reading and writing is the callers' (planning/planRun.ts, synthesisInput.ts, the CLI).
 */

export const PRONUNCIATIONS_FILE = "pronunciations.json";
export const LEXICON_FILE = "lexicon.pls";
/** The project's files (beside its chapters) that hold pronunciations. */
export type PronunciationFile = PronunciationIssue["file"];
export const INVALID_PRONUNCIATIONS = "invalid-pronunciations";

/**
 * Stand-in for the lexicon's SAS URL in planned inputs: the SAS is only signed when a job is submitted,
 * so an input saved at planning never holds a signature and the SAS is fresh when the service reads it.
 */
export const LEXICON_PLACEHOLDER_URI = "https://lexicon.invalid/tts-pipeline/lexicon.pls";
/** Length budget of a real SAS URL in estimates (account URL, path and about 200 characters of query). */
const ESTIMATED_SAS_QUERY_CHARS = 200;

/** How long a lexicon SAS is valid: a batch job reads it when it runs, normally minutes after submission. */
export const LEXICON_SAS_HOURS = 12;

export class PronunciationsError extends Error {
  override readonly name = "PronunciationsError";
  readonly code = INVALID_PRONUNCIATIONS;
  constructor(readonly issues: PronunciationIssue[]) {
    super(describeIssues(issues));
  }
}

function describeIssue(issue: PronunciationIssue): string {
  const entry =
    issue.entry !== undefined
      ? ` ${issue.file === "lexicon.pls" ? "lexeme" : "entry"} ${issue.entry}${issue.text !== undefined ? ` (${JSON.stringify(issue.text)})` : ""}`
      : "";
  return `${issue.file}${entry}: ${issue.message}`;
}

function describeIssues(issues: readonly PronunciationIssue[]): string {
  const first = issues[0];
  if (!first) return "The pronunciation list is invalid.";
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `${describeIssue(first)}${more}. Nothing was started; fix the file and try again.`;
}

export interface ProjectPronunciations {
  entries: PronunciationEntry[];
  lexicon?: { source: string; parsed: Lexicon };
  /** Every rule (list first, so a list entry wins over a lexeme for the same text). */
  matcher: PronunciationMatcher;
  /** Lexicon rules only: what the realtime path inlines in place of `<lexicon uri>`. */
  lexiconMatcher: PronunciationMatcher;
}

/** Builds the matchers of a validated list and lexicon. */
export function compilePronunciations(
  entries: PronunciationEntry[],
  lexicon?: { source: string; parsed: Lexicon },
): ProjectPronunciations {
  const lexiconRules = lexicon ? rulesFromLexicon(lexicon.parsed) : [];
  return {
    entries,
    ...(lexicon ? { lexicon } : {}),
    matcher: new PronunciationMatcher([...rulesFromEntries(entries), ...lexiconRules]),
    lexiconMatcher: new PronunciationMatcher(lexiconRules),
  };
}

/**
 * The project's pronunciations, or undefined when it has neither file. Throws {@link PronunciationsError}
 * (every problem, each naming its entry) when either file is invalid. `readFile` reads one of the
 * project's files (undefined when it does not exist): the core decides, the caller reads.
 */
export async function loadPronunciations(
  readFile: (fileName: PronunciationFile) => Promise<Uint8Array | undefined>,
): Promise<ProjectPronunciations | undefined> {
  const decoded = async (file: PronunciationFile) => {
    const bytes = await readFile(file);
    if (!bytes) return undefined;
    const text = decodeChapterText(bytes);
    if (text === undefined) throw new PronunciationsError([{ file, message: "is not valid UTF-8" }]);
    return text;
  };
  const [listText, lexiconText] = await Promise.all([decoded(PRONUNCIATIONS_FILE), decoded(LEXICON_FILE)]);
  if (listText === undefined && lexiconText === undefined) return undefined;
  const issues: PronunciationIssue[] = [];
  let entries: PronunciationEntry[] = [];
  if (listText !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(listText);
    } catch (error) {
      raw = undefined;
      issues.push({
        file: "pronunciations.json",
        message: `is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      });
    }
    if (raw !== undefined) {
      const list = validatePronunciationList(raw);
      if (list.ok) entries = list.value;
      else issues.push(...list.issues);
    }
  }
  let lexicon: { source: string; parsed: Lexicon } | undefined;
  if (lexiconText !== undefined) {
    const parsed = validateLexicon(lexiconText);
    if (parsed.ok) lexicon = { source: lexiconText, parsed: parsed.value };
    else issues.push(...parsed.issues);
  }
  if (issues.length > 0) throw new PronunciationsError(issues);
  return compilePronunciations(entries, lexicon);
}

export interface PronouncedChapter extends PronouncedInput {
  /** Hash of the rules this chapter uses (folded into its change-detection hash). */
  usedHash: string;
}

/**
 * A chapter with its pronunciations applied, or undefined when it uses none (then it is sent as it is
 * and its hash stays the text hash). Batch inputs leave lexicon terms to one `<lexicon uri>` (the
 * placeholder until submission); realtime inputs inline them, as a long chapter is split into requests
 * and only the first would carry the lexicon element.
 */
export function pronounceChapter(
  text: string,
  kind: ChapterKind,
  voice: string,
  pronunciations: ProjectPronunciations,
  mode: "batch" | "realtime",
): PronouncedChapter | undefined {
  const lexiconUri = mode === "batch" && pronunciations.lexicon ? LEXICON_PLACEHOLDER_URI : undefined;
  const options = { voice, ...(lexiconUri ? { lexiconUri } : {}) };
  const pronounced =
    kind === "ssml"
      ? pronounceSsml(text, pronunciations.matcher, options)
      : pronounceText(text, pronunciations.matcher, options);
  return pronounced && { ...pronounced, usedHash: rulesHash(pronounced.used) };
}

/** The placeholder as a real SAS URL would be billed: the estimate counts the URL the service gets. */
export function asBilled(ssml: string, blobUrlLength: number): string {
  const placeholder = escapeXml(LEXICON_PLACEHOLDER_URI);
  if (!ssml.includes(placeholder)) return ssml;
  return ssml.replaceAll(placeholder, "x".repeat(blobUrlLength + 1 + ESTIMATED_SAS_QUERY_CHARS));
}

/**
 * The read window of a lexicon SAS signed at `now`: from five minutes before (clock skew) for
 * {@link LEXICON_SAS_HOURS}, in whole seconds (the SAS carries second precision, and a saved window must
 * sign the same).
 */
export function lexiconWindowAt(now: Date): { startsOn: Date; expiresOn: Date } {
  const seconds = Math.floor(now.getTime() / 1000) * 1000;
  return {
    startsOn: new Date(seconds - 5 * 60_000),
    expiresOn: new Date(seconds + LEXICON_SAS_HOURS * 3_600_000),
  };
}

/** Whether a planned input refers to the run's lexicon snapshot (through the placeholder). */
export function usesLexicon(ssml: string): boolean {
  return ssml.includes(escapeXml(LEXICON_PLACEHOLDER_URI));
}

/** A batch input: the placeholder becomes the real (SAS) URL of the run's lexicon snapshot. */
export function withLexiconUrl(ssml: string, url: string): string {
  return ssml.replaceAll(escapeXml(LEXICON_PLACEHOLDER_URI), escapeXml(url));
}

/**
 * A realtime input: the `<lexicon uri>` element removed and the lexicon's terms inlined instead, as a long
 * chapter is split into requests and only the first would carry the element. Throws when the snapshot is
 * missing or invalid.
 */
export function withLexiconInlined(ssml: string, lexiconSource: string | undefined): string {
  const lexicon = lexiconSource !== undefined ? validateLexicon(lexiconSource) : undefined;
  if (!lexicon?.ok) throw new Error("The run's lexicon snapshot is missing or invalid.");
  const stripped = withoutLexiconElements(ssml);
  const inlined = pronounceSsml(
    stripped,
    compilePronunciations([], { source: "", parsed: lexicon.value }).lexiconMatcher,
    {},
  );
  return inlined?.ssml ?? stripped;
}
