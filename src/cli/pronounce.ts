import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ContainerClient } from "@azure/storage-blob";
import { mapLimit } from "../concurrency.js";
import type { Settings } from "../config/settings.js";
import { projectFileSchema } from "../pipeline/options.js";
import { classifyProjectBlobs, decodeChapterText, PROJECT_FILE_NAME } from "../pipeline/planning/chapters.js";
import { loadPronunciations, PronunciationsError } from "../pipeline/planning/pronunciations.js";
import { ssmlToPlainText } from "../pipeline/srt.js";
import { createSpeechClients } from "../speech/createSpeechClients.js";
import { findOutputFormat } from "../speech/formats.js";
import { downloadBytes, listBlobs } from "../storage/blobs.js";
import { billableCharacters } from "../text/billing.js";
import { pronounceText } from "../text/pronunciations.js";
import { textToSsml } from "../text/ssml.js";
import { type NameCandidate, starterList, suggestNames } from "../text/suggest.js";

/**
 * `tts-pipeline pronounce suggest|try`: find names worth listing before a book is billed, and listen to one
 * sentence said with the project's current list (docs/pronunciation.md).
 */

export interface SuggestResult {
  projectId: string;
  chapters: number;
  /** Candidates not yet in the project's pronunciations.json, most frequent first. */
  candidates: NameCandidate[];
  /** Names left out because the project already lists them. */
  alreadyListed: string[];
}

async function readProjectChapters(chapters: ContainerClient, projectId: string) {
  const listing = classifyProjectBlobs(
    projectId,
    (await listBlobs(chapters, `${projectId}/`)).map((b) => b.name),
  );
  const texts = await mapLimit(listing.chapters, 16, async (c) => {
    const bytes = await downloadBytes(chapters, c.sourceBlob);
    const text = bytes ? decodeChapterText(bytes) : undefined;
    if (text === undefined) return undefined;
    return { chapterId: c.chapterId, text: c.kind === "ssml" ? ssmlToPlainText(text) : text };
  });
  return texts.filter((t): t is { chapterId: string; text: string } => t !== undefined);
}

/** The project's pronunciations as planning reads them (undefined when it has none). */
function projectPronunciations(chapters: ContainerClient, projectId: string) {
  return loadPronunciations((file) => downloadBytes(chapters, `${projectId}/${file}`));
}

/** Current list entries (lower-cased texts) when the project has a valid list; none otherwise. */
async function listedTexts(chapters: ContainerClient, projectId: string): Promise<Set<string>> {
  try {
    const current = await projectPronunciations(chapters, projectId);
    return new Set(current?.matcher.rules.map((r) => r.text.toLocaleLowerCase("en")) ?? []);
  } catch (error) {
    if (error instanceof PronunciationsError) return new Set();
    throw error;
  }
}

export async function suggestForProject(
  chapters: ContainerClient,
  projectId: string,
  top: number,
): Promise<SuggestResult> {
  const [texts, listed] = await Promise.all([
    readProjectChapters(chapters, projectId),
    listedTexts(chapters, projectId),
  ]);
  if (texts.length === 0) throw new Error(`No chapters under ${chapters.containerName}/${projectId}/.`);
  const all = suggestNames(texts, top + listed.size);
  const alreadyListed = all.filter((c) => listed.has(c.text.toLocaleLowerCase("en"))).map((c) => c.text);
  const candidates = all.filter((c) => !listed.has(c.text.toLocaleLowerCase("en"))).slice(0, top);
  return { projectId, chapters: texts.length, candidates, alreadyListed };
}

/** Writes the starter list (empty aliases: the pipeline refuses it until a person fills them in). */
export async function writeStarterList(
  path: string,
  candidates: readonly NameCandidate[],
  overwrite: boolean,
) {
  await writeFile(path, `${JSON.stringify(starterList(candidates), null, 2)}\n`, {
    encoding: "utf8",
    flag: overwrite ? "w" : "wx",
  });
}

export interface TryResult {
  projectId: string;
  voice: string;
  outputFormat: string;
  /** Where the audio was saved. */
  file: string;
  bytes: number;
  /** The list entries (and lexemes) the sentence used. */
  applied: string[];
  /** The SSML sent, as Azure bills it. */
  ssml: string;
  billableCharacters: number;
}

/**
 * Synthesizes one sentence through the realtime endpoint with the project's voice and its current list and
 * lexicon (inlined as `<sub>`/`<phoneme>`), and saves the audio. An invalid list fails as it would at start.
 */
export async function tryPronunciation(options: {
  chapters: ContainerClient;
  projectId: string;
  text: string;
  settings: Settings;
  outputFormat?: string;
  /** Audio file, relative to `cwd`; default `pronounce-<id>.<ext>`. */
  out?: string;
  cwd: string;
}): Promise<TryResult> {
  const { chapters, projectId, settings } = options;
  const [pronunciations, projectBytes] = await Promise.all([
    projectPronunciations(chapters, projectId),
    downloadBytes(chapters, `${projectId}/${PROJECT_FILE_NAME}`),
  ]);
  const project = projectBytes
    ? projectFileSchema.safeParse(JSON.parse(projectBytes.toString("utf8")))
    : undefined;
  const voice = (project?.success ? project.data.voice : undefined) ?? settings.DEFAULT_VOICE;
  const outputFormat =
    options.outputFormat ??
    (project?.success ? project.data.outputFormat : undefined) ??
    settings.DEFAULT_OUTPUT_FORMAT;
  const format = findOutputFormat(outputFormat);
  if (!format) throw new Error(`Unknown output format ${outputFormat}.`);
  const pronounced = pronunciations
    ? pronounceText(options.text, pronunciations.matcher, { voice })
    : undefined;
  const ssml = pronounced?.ssml ?? textToSsml(options.text, { voice });
  const { realtime } = createSpeechClients(settings);
  const audio = await realtime.synthesize(ssml, outputFormat);
  const file = resolve(options.cwd, options.out ?? `pronounce-${projectId}.${format.extension}`);
  await writeFile(file, audio);
  return {
    projectId,
    voice,
    outputFormat,
    file,
    bytes: audio.length,
    applied: [...new Set(pronounced?.used.map((r) => r.text) ?? [])],
    ssml,
    billableCharacters: billableCharacters(ssml, "SSML"),
  };
}

/** Plays a file with ffplay (from ffmpeg) when it is installed; resolves false when it is not. */
export function playFile(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("ffplay", ["-nodisp", "-autoexit", "-loglevel", "error", file], { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("exit", (code) => resolve(code === 0));
  });
}
