import { downloadBytes } from "../storage/blobs.js";
import type { PipelineDeps } from "./deps.js";
import { decodeChapterText } from "./planning/chapters.js";
import {
  lexiconWindowAt,
  usesLexicon,
  withLexiconInlined,
  withLexiconUrl,
} from "./planning/pronunciations.js";
import type { JobChapter } from "./planning/schema.js";

/**
 * A chapter's input that cannot be made, however often it is tried (its source is gone or no longer
 * UTF-8, the run's lexicon snapshot is missing): an outcome for the chapter, not an error to retry.
 * A storage error on the way is not one of these: it throws as it is, so the activity is retried.
 */
export class ChapterInputError extends Error {
  override name = "ChapterInputError";
}

export interface InputRef {
  projectId: string;
  runId: string;
  /** Names the submission (job number and attempt) whose SAS window is shared by its retries. */
  submission: string;
}

/**
 * The exact input of a chapter: the source text (chapters container), or its planned SSML (run store). In
 * batch the lexicon placeholder becomes a read SAS of the run's lexicon snapshot, its window fixed on the
 * submission's first call so a retried submit signs the same SAS (the same request, and the Speech
 * client's fingerprint re-attaches it to the job); in realtime the lexicon terms are inlined instead.
 */
export async function readSynthesisInput(
  deps: PipelineDeps,
  ref: InputRef,
  chapter: Pick<JobChapter, "chapterId" | "sourceBlob" | "inputBlob">,
  mode: "batch" | "realtime",
): Promise<string> {
  const run = { projectId: ref.projectId, runId: ref.runId };
  const planned = chapter.inputBlob !== undefined;
  const text = planned
    ? await deps.runs.readPlannedInput(run, chapter.chapterId)
    : await readSource(deps, chapter.sourceBlob);
  if (text === undefined) {
    throw new ChapterInputError(`Chapter ${chapter.sourceBlob} is gone or can no longer be read as UTF-8.`);
  }
  if (!planned || !usesLexicon(text)) return text;
  if (mode === "batch") {
    const window = await deps.runs.fixLexiconWindow(run, ref.submission, lexiconWindowAt(deps.now()));
    return withLexiconUrl(text, await deps.runs.lexiconUrl(run, window));
  }
  const lexicon = await deps.runs.readLexicon(run);
  try {
    return withLexiconInlined(text, lexicon);
  } catch (error) {
    throw new ChapterInputError(error instanceof Error ? error.message : String(error));
  }
}

/** A chapter's source text as uploaded (strict UTF-8), undefined when it is gone or no longer decodes. */
async function readSource(deps: PipelineDeps, sourceBlob: string): Promise<string | undefined> {
  const bytes = await downloadBytes(deps.storage.chapters, sourceBlob);
  return bytes && decodeChapterText(bytes);
}
