import type { ContainerClient } from "@azure/storage-blob";
import { downloadBytes, isConditionConflict, readJson } from "../storage/blobs.js";
import { readOnlySasUrl, type SasWindow } from "../storage/sas.js";
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
} from "../text/pronunciations.js";
import { escapeXml } from "../text/ssml.js";
import type { PipelineDeps } from "./deps.js";
import { decodeChapterText } from "./planning/chapters.js";
import type { ChapterKind, JobChapter } from "./planning/schema.js";

/**
 * The pipeline side of pronunciations: reading and validating a project's list and lexicon (refused with
 * `invalid-pronunciations` before anything is planned), turning chapters that use a term into SSML at
 * planning time, and producing the exact input a job sends (with a fresh read SAS for the lexicon).
 */

export const PRONUNCIATIONS_FILE = "pronunciations.json";
export const LEXICON_FILE = "lexicon.pls";
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

async function readText(chapters: ContainerClient, blobName: string, file: PronunciationIssue["file"]) {
  const bytes = await downloadBytes(chapters, blobName);
  if (!bytes) return undefined;
  const text = decodeChapterText(bytes);
  if (text === undefined) throw new PronunciationsError([{ file, message: "is not valid UTF-8" }]);
  return text;
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
 * (every problem, each naming its entry) when either file is invalid.
 */
export async function loadProjectPronunciations(
  chapters: ContainerClient,
  projectId: string,
): Promise<ProjectPronunciations | undefined> {
  const [listText, lexiconText] = await Promise.all([
    readText(chapters, `${projectId}/${PRONUNCIATIONS_FILE}`, "pronunciations.json"),
    readText(chapters, `${projectId}/${LEXICON_FILE}`, "lexicon.pls"),
  ]);
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

/** Work-container names of a run's planned inputs and lexicon snapshot. */
export const pronunciationPaths = {
  input: (projectId: string, runId: string, chapterId: string) =>
    `${projectId}/${runId}/inputs/${encodeURIComponent(chapterId)}.ssml`,
  lexicon: (projectId: string, runId: string) => `${projectId}/${runId}/lexicon.pls`,
  sasWindow: (projectId: string, runId: string, key: string) =>
    `${projectId}/${runId}/lexicon-sas/${encodeURIComponent(key)}.json`,
};

/**
 * The SAS window of one submission, fixed on its first call: a retried submit signs the same SAS, so its
 * request (and the Speech client's fingerprint) is the same and it re-attaches to the job.
 */
async function sasWindowFor(
  deps: PipelineDeps,
  ref: { projectId: string; runId: string },
  key: string,
): Promise<SasWindow> {
  const name = pronunciationPaths.sasWindow(ref.projectId, ref.runId, key);
  const parse = (raw: { startsOn: string; expiresOn: string }) => ({
    startsOn: new Date(raw.startsOn),
    expiresOn: new Date(raw.expiresOn),
  });
  const saved = await readJson<{ startsOn: string; expiresOn: string }>(deps.work, name);
  if (saved) return parse(saved);
  const now = deps.now().getTime();
  // Whole seconds: the SAS carries second precision, and the saved window must sign the same.
  const window = {
    startsOn: new Date(Math.floor(now / 1000) * 1000 - 5 * 60_000).toISOString(),
    expiresOn: new Date(Math.floor(now / 1000) * 1000 + LEXICON_SAS_HOURS * 3_600_000).toISOString(),
  };
  const body = JSON.stringify(window);
  try {
    await deps.work.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
      conditions: { ifNoneMatch: "*" },
      blobHTTPHeaders: { blobContentType: "application/json" },
    });
    return parse(window);
  } catch (error) {
    if (!isConditionConflict(error)) throw error;
    const other = await readJson<{ startsOn: string; expiresOn: string }>(deps.work, name);
    if (!other) throw error;
    return parse(other);
  }
}

export interface InputRef {
  projectId: string;
  runId: string;
  /** Names the submission (job number and attempt) whose SAS window is shared by its retries. */
  submission: string;
}

/**
 * The exact input of a chapter: the source text, or its planned SSML. In batch the lexicon placeholder
 * becomes a read SAS of the run's lexicon snapshot; in realtime the lexicon terms are inlined instead.
 */
export async function readSynthesisInput(
  deps: PipelineDeps,
  ref: InputRef,
  chapter: Pick<JobChapter, "sourceBlob" | "inputBlob">,
  mode: "batch" | "realtime",
): Promise<string> {
  const fromWork = chapter.inputBlob !== undefined;
  const bytes = fromWork
    ? await downloadBytes(deps.work, chapter.inputBlob as string)
    : await downloadBytes(deps.storage.chapters, chapter.sourceBlob);
  const text = bytes && decodeChapterText(bytes);
  if (text === undefined) {
    throw new Error(`Chapter ${chapter.sourceBlob} can no longer be read as UTF-8.`);
  }
  const placeholder = escapeXml(LEXICON_PLACEHOLDER_URI);
  if (!fromWork || !text.includes(placeholder)) return text;
  const lexiconBlob = deps.work.getBlobClient(pronunciationPaths.lexicon(ref.projectId, ref.runId));
  if (mode === "batch") {
    const window = await sasWindowFor(deps, ref, ref.submission);
    const url = await readOnlySasUrl(deps.storage.blobs, lexiconBlob, window);
    return text.replaceAll(placeholder, escapeXml(url));
  }
  const source = await downloadBytes(deps.work, lexiconBlob.name);
  const lexicon = source && validateLexicon(source.toString("utf8"));
  if (!lexicon?.ok) throw new Error("The run's lexicon snapshot is missing or invalid.");
  const stripped = withoutLexiconElements(text);
  const inlined = pronounceSsml(
    stripped,
    compilePronunciations([], { source: "", parsed: lexicon.value }).lexiconMatcher,
    {},
  );
  return inlined?.ssml ?? stripped;
}
