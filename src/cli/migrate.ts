import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import type { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { parseFile } from "music-metadata";
import { orderBy } from "natural-orderby";
import { mapLimit } from "../concurrency.js";
import type { ProjectFile } from "../pipeline/options.js";
import { classifyProjectBlobs, decodeChapterText, sha256Hex } from "../pipeline/planning/chapters.js";
import { audioPaths } from "../pipeline/runState.js";
import { findOutputFormat, OUTPUT_FORMAT_NAMES, type OutputFormatInfo } from "../speech/formats.js";
import { assertProjectId } from "./api.js";
import { readProjectJson, updateProjectJson } from "./projectFile.js";
import { listChapterFiles } from "./upload.js";

/**
 * `tts-pipeline migrate`: adopts a project of the old one-request-per-chapter tool. Texts go to
 * `chapters/{projectId}/`, the old settings become `project.json`, and every old audio file whose format is
 * the project's goes to `audio/{projectId}/{chapterId}.{ext}` with exactly the metadata the planner's
 * unchanged check reads (src/pipeline/planning/changes.ts `isUnchanged`: `textsha256` of the decoded text,
 * `voice`, `outputformat`; `durationms` for the manifest), so the first run pays only for what is missing.
 */

/** Where the old tool kept its texts and audio, tried in this order. */
/** Chapters read, probed and uploaded at once. */
const MIGRATE_CONCURRENCY = 8;

const TEXT_FOLDERS = ["chapters", "texts", "text"];
const AUDIO_FOLDERS = ["audio", "output", "mp3"];
const AUDIO_EXTENSIONS = new Set([".mp3", ".wav", ".ogg", ".webm", ".opus", ".pcm"]);

const CONTENT_TYPES: Record<string, string> = {
  ".txt": "text/plain; charset=utf-8",
  ".ssml": "application/ssml+xml; charset=utf-8",
};

/** Old `azure_config.json` keys, by what they become. */
const VOICE_KEYS = ["voice", "voice_name", "voiceName", "speech_synthesis_voice_name"];
const FORMAT_KEYS = ["output_format", "outputFormat", "audio_format", "speech_synthesis_output_format"];
/** Connection details of the old tool: the app has its own (managed identity), so they are left behind. */
const CONNECTION_KEYS = ["region", "subscription_key", "key", "speech_key", "endpoint", "speech_region"];

export type ChapterOutcome =
  /** Audio uploaded with the metadata that makes the chapter unchanged. */
  | "adopted"
  /** Already in the audio container with matching metadata (a re-run, or made by the pipeline since). */
  | "already-current"
  /** Text without audio: the first run synthesizes it. */
  | "no-audio"
  /** Audio in another format than the project's: not adopted, the first run synthesizes it. */
  | "format-mismatch"
  /** Audio made with another voice than the project's (project.json names another): not adopted. */
  | "voice-mismatch"
  /** Audio that could not be read as audio: not adopted. */
  | "unreadable-audio"
  /** Text the pipeline will reject (not UTF-8, or empty): uploaded, audio not adopted. */
  | "invalid-text";

export interface MigratedChapter {
  chapterId: string;
  textFile: string;
  audioFile?: string;
  outcome: ChapterOutcome;
  detail?: string;
  durationMs?: number;
}

export interface SettingMapping {
  from: string;
  to: keyof ProjectFile;
  value: unknown;
}

export interface MigrationReport {
  projectId: string;
  applied: boolean;
  projectFile: Record<string, unknown>;
  projectFileChanged: boolean;
  mapped: SettingMapping[];
  /** Keys of the old settings with no counterpart: reported, never dropped silently. */
  unknownKeys: string[];
  /** Keys deliberately left behind, with why (values are never printed: they may be secrets). */
  ignoredKeys: { key: string; why: string }[];
  notes: string[];
  chapters: MigratedChapter[];
  /** Audio files named after no chapter text. */
  audioWithoutText: string[];
  texts: { uploaded: number; unchanged: number };
  counts: {
    texts: number;
    matched: number;
    adopted: number;
    alreadyCurrent: number;
    textWithoutAudio: number;
    audioWithoutText: number;
    formatMismatches: number;
    voiceMismatches: number;
    unreadableAudio: number;
    invalidTexts: number;
  };
}

export interface MigrateOptions {
  dir: string;
  projectId: string;
  blobService: BlobServiceClient;
  chaptersContainer: string;
  audioContainer: string;
  apply: boolean;
  /** Folder of texts (default: the first of chapters/, texts/, text/ under `dir`, else `dir`). */
  textsDir?: string;
  /** Folder of audio (default: the first of audio/, output/, mp3/ under `dir`). */
  audioDir?: string;
  /** Used when neither the old settings nor project.json name a voice or format. */
  defaults: { voice: string; outputFormat: string };
}

export class MigrationError extends Error {
  override readonly name = "MigrationError";
}

async function readJsonFile(path: string): Promise<Record<string, unknown> | undefined> {
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new MigrationError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MigrationError(`${path} is not a JSON object.`);
  }
  return value as Record<string, unknown>;
}

/** Output format from the REST name (`audio-24khz-96kbitrate-mono-mp3`) or the Speech SDK enum name (`Audio24Khz96KBitRateMonoMp3`). */
export function outputFormatFromOldName(name: string): OutputFormatInfo | undefined {
  const direct = findOutputFormat(name);
  if (direct) return direct;
  const squashed = name.replace(/[-_\s]/g, "").toLowerCase();
  const match = OUTPUT_FORMAT_NAMES.find((n) => n.replace(/-/g, "") === squashed);
  return match ? findOutputFormat(match) : undefined;
}

const positiveInteger = (value: unknown, where: string): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new MigrationError(`${where} must be a positive integer (found ${JSON.stringify(value)}).`);
  }
  return value;
};

interface MappedSettings {
  changes: Partial<ProjectFile>;
  mapped: SettingMapping[];
  unknownKeys: string[];
  ignoredKeys: { key: string; why: string }[];
}

/** Maps `azure_config.json` and `processing_config.json` to project.json fields. */
export async function mapOldSettings(dir: string): Promise<MappedSettings> {
  const result: MappedSettings = { changes: {}, mapped: [], unknownKeys: [], ignoredKeys: [] };
  const set = <K extends keyof ProjectFile>(to: K, value: ProjectFile[K], from: string) => {
    result.changes[to] = value;
    result.mapped.push({ from, to, value });
  };

  const azure = await readJsonFile(join(dir, "azure_config.json"));
  for (const [key, value] of Object.entries(azure ?? {})) {
    const from = `azure_config.json: ${key}`;
    if (VOICE_KEYS.includes(key)) {
      if (typeof value !== "string" || value.trim() === "")
        throw new MigrationError(`${from} must be a voice name.`);
      set("voice", value.trim(), from);
    } else if (FORMAT_KEYS.includes(key)) {
      const format = typeof value === "string" ? outputFormatFromOldName(value) : undefined;
      if (!format)
        throw new MigrationError(`${from}: ${JSON.stringify(value)} is not a known Speech output format.`);
      set("outputFormat", format.name, from);
    } else if (CONNECTION_KEYS.includes(key)) {
      result.ignoredKeys.push({
        key: from,
        why: "connection details stay with the old tool; the app uses its own Speech resource and identity",
      });
    } else {
      result.unknownKeys.push(from);
    }
  }

  const processing = await readJsonFile(join(dir, "processing_config.json"));
  const section = processing?.["azure_processing"];
  const sectionObject =
    typeof section === "object" && section !== null && !Array.isArray(section)
      ? (section as Record<string, unknown>)
      : undefined;
  if (section !== undefined && !sectionObject) {
    throw new MigrationError("processing_config.json: azure_processing must be an object.");
  }
  const mapProcessing = (key: string, value: unknown, from: string): boolean => {
    if (key === "mode") {
      if (value !== "single" && value !== "batch") {
        throw new MigrationError(`${from} must be "single" or "batch" (found ${JSON.stringify(value)}).`);
      }
      set("mode", value === "single" ? "realtime" : "batch", from);
      return true;
    }
    if (key === "batch_size") {
      set("maxChaptersPerJob", positiveInteger(value, from), from);
      return true;
    }
    if (key === "max_concurrent_batches") {
      set("maxConcurrentJobs", positiveInteger(value, from), from);
      return true;
    }
    return false;
  };
  for (const [key, value] of Object.entries(sectionObject ?? {})) {
    const from = `processing_config.json: azure_processing.${key}`;
    if (!mapProcessing(key, value, from)) result.unknownKeys.push(from);
  }
  for (const [key, value] of Object.entries(processing ?? {})) {
    if (key === "azure_processing") continue;
    const from = `processing_config.json: ${key}`;
    // The same settings at the top level, as some versions of the old tool wrote them (the section wins).
    if (key in (sectionObject ?? {}) || !mapProcessing(key, value, from)) result.unknownKeys.push(from);
  }
  return result;
}

function firstFolder(dir: string, names: string[]): string | undefined {
  return names.map((n) => join(dir, n)).find((p) => existsSync(p));
}

async function listAudioFiles(dir: string | undefined): Promise<string[]> {
  if (!dir) return [];
  const entries = await readdir(dir, { withFileTypes: true });
  return orderBy(
    entries
      .filter((e) => e.isFile() && AUDIO_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => e.name),
  );
}

const baseName = (file: string) => file.slice(0, file.length - extname(file).length);

/** Stream format of an audio file, read by `music-metadata` (codec, sample rate, channels, bit rate, duration). */
export async function probeAudio(path: string) {
  return (await parseFile(path, { duration: true })).format;
}

/** Why probed audio is not in `format`, or undefined when it is (extension, sample rate, channels, bit rate). */
export function formatMismatch(
  probed: Awaited<ReturnType<typeof probeAudio>>,
  path: string,
  format: OutputFormatInfo,
): string | undefined {
  const problems: string[] = [];
  if (extname(path).slice(1).toLowerCase() !== format.extension) problems.push(`extension ${extname(path)}`);
  if (probed.sampleRate !== format.sampleRate) problems.push(`${probed.sampleRate ?? "?"} Hz`);
  if (probed.numberOfChannels !== undefined && probed.numberOfChannels !== 1) {
    problems.push(`${probed.numberOfChannels} channels`);
  }
  if (format.codec === "mp3" && format.kbps && Math.round((probed.bitrate ?? 0) / 1000) !== format.kbps) {
    problems.push(`${Math.round((probed.bitrate ?? 0) / 1000)} kbit/s`);
  }
  if (format.bitsPerSample && probed.bitsPerSample && probed.bitsPerSample !== format.bitsPerSample) {
    problems.push(`${probed.bitsPerSample} bit`);
  }
  return problems.length ? `${problems.join(", ")}; the project's format is ${format.name}` : undefined;
}

async function existingMetadata(
  container: ContainerClient,
  blobName: string,
): Promise<{ metadata: Record<string, string>; md5?: string } | undefined> {
  try {
    const props = await container.getBlobClient(blobName).getProperties();
    return {
      metadata: props.metadata ?? {},
      ...(props.contentMD5 ? { md5: Buffer.from(props.contentMD5).toString("base64") } : {}),
    };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** A missing container reads as empty (a dry run must not create it). */
function notFoundAsUndefined(error: { statusCode?: number }): undefined {
  if (error.statusCode === 404) return undefined;
  throw error;
}

const md5Base64 = (bytes: Buffer) => createHash("md5").update(bytes).digest("base64");

/** Plans (and with `apply`, performs) the migration; safe to run again. */
export async function migrateProject(options: MigrateOptions): Promise<MigrationReport> {
  const projectId = assertProjectId(options.projectId);
  if (!existsSync(options.dir)) throw new MigrationError(`Folder ${options.dir} does not exist.`);
  const textsDir = options.textsDir ?? firstFolder(options.dir, TEXT_FOLDERS) ?? options.dir;
  const audioDir = options.audioDir ?? firstFolder(options.dir, AUDIO_FOLDERS);
  const chapters = options.blobService.getContainerClient(options.chaptersContainer);
  const audio = options.blobService.getContainerClient(options.audioContainer);

  const settings = await mapOldSettings(options.dir);
  const { files } = await listChapterFiles(textsDir);
  const textFiles = files.filter((f) => f !== "project.json");
  if (textFiles.length === 0) throw new MigrationError(`No chapter texts (*.txt, *.ssml) in ${textsDir}.`);
  // The pipeline's own rule for chapter ids (a.txt and a.ssml: the first in natural order wins).
  const listing = classifyProjectBlobs(
    projectId,
    textFiles.map((f) => `${projectId}/${f}`),
  );
  const audioFiles = await listAudioFiles(audioDir);
  const audioById = new Map<string, string[]>();
  for (const file of audioFiles)
    audioById.set(baseName(file), [...(audioById.get(baseName(file)) ?? []), file]);

  // project.json wins over the old settings: a re-run must not undo `config` changes made since.
  const existing = (await readProjectJson(chapters, projectId).catch(notFoundAsUndefined)) ?? {};
  const changes: Partial<ProjectFile> = {};
  const notes: string[] = [];
  for (const m of settings.mapped) {
    if (!(m.to in existing)) Object.assign(changes, { [m.to]: m.value });
    else if (JSON.stringify(existing[m.to]) !== JSON.stringify(m.value)) {
      notes.push(
        `project.json keeps ${m.to} = ${JSON.stringify(existing[m.to])} (${m.from} says ${JSON.stringify(m.value)})`,
      );
    }
  }
  const voice = String(existing["voice"] ?? changes.voice ?? options.defaults.voice);
  const formatName = String(
    existing["outputFormat"] ?? changes.outputFormat ?? options.defaults.outputFormat,
  );
  const format = findOutputFormat(formatName);
  if (!format) throw new MigrationError(`Unknown output format ${formatName}.`);
  changes.voice ??= existing["voice"] === undefined ? voice : undefined;
  changes.outputFormat ??= existing["outputFormat"] === undefined ? format.name : undefined;
  // The voice the old audio was made with; without one in the old settings, the project's is assumed.
  const oldVoice = settings.changes.voice ?? voice;

  const report: MigrationReport = {
    projectId,
    applied: options.apply,
    projectFile: {},
    projectFileChanged: false,
    mapped: settings.mapped,
    unknownKeys: settings.unknownKeys,
    ignoredKeys: settings.ignoredKeys,
    notes,
    chapters: [],
    audioWithoutText: [],
    texts: { uploaded: 0, unchanged: 0 },
    counts: {
      texts: listing.chapters.length,
      matched: 0,
      adopted: 0,
      alreadyCurrent: 0,
      textWithoutAudio: 0,
      audioWithoutText: 0,
      formatMismatches: 0,
      voiceMismatches: 0,
      unreadableAudio: 0,
      invalidTexts: 0,
    },
  };
  if (options.apply) await Promise.all([chapters.createIfNotExists(), audio.createIfNotExists()]);

  // Pick each chapter's audio first (a.mp3 and a.wav: the project's extension wins), then work in parallel.
  const work = listing.chapters.map((source) => {
    const candidates = audioById.get(source.chapterId) ?? [];
    audioById.delete(source.chapterId);
    const audioFile =
      candidates.find((f) => extname(f).slice(1).toLowerCase() === format.extension) ?? candidates[0];
    return { source, audioFile };
  });
  const migrateChapter = async ({ source, audioFile }: (typeof work)[number]): Promise<MigratedChapter> => {
    const textFile = source.sourceBlob.slice(projectId.length + 1);
    const bytes = await readFile(join(textsDir, textFile));
    if (options.apply) {
      const stored = await existingMetadata(chapters, source.sourceBlob);
      if (stored?.md5 === md5Base64(bytes)) {
        report.texts.unchanged++;
      } else {
        await chapters.getBlockBlobClient(source.sourceBlob).uploadData(bytes, {
          blobHTTPHeaders: {
            blobContentType: CONTENT_TYPES[extname(textFile).toLowerCase()] ?? "text/plain",
          },
        });
        report.texts.uploaded++;
      }
    }
    const entry: MigratedChapter = { chapterId: source.chapterId, textFile, outcome: "no-audio" };
    if (!audioFile) return entry;
    entry.audioFile = audioFile;
    const text = decodeChapterText(bytes);
    if (text === undefined || text.trim() === "") {
      return { ...entry, outcome: "invalid-text", detail: text === undefined ? "not valid UTF-8" : "empty" };
    }
    const path = join(audioDir as string, audioFile);
    let probed: Awaited<ReturnType<typeof probeAudio>>;
    try {
      probed = await probeAudio(path);
    } catch (error) {
      return { ...entry, outcome: "unreadable-audio", detail: (error as Error).message };
    }
    const mismatch = formatMismatch(probed, path, format);
    if (mismatch) return { ...entry, outcome: "format-mismatch", detail: mismatch };
    if (oldVoice !== voice) {
      return {
        ...entry,
        outcome: "voice-mismatch",
        detail: `made with ${oldVoice}; the project's voice is ${voice}`,
      };
    }
    const durationMs = probed.duration === undefined ? undefined : Math.round(probed.duration * 1000);
    if (durationMs !== undefined) entry.durationMs = durationMs;
    const metadata = {
      chapterid: encodeURIComponent(source.chapterId),
      textsha256: sha256Hex(text),
      voice,
      outputformat: format.name,
      durationms: String(durationMs ?? 0),
      adoptedfrom: "migrate",
    };
    const blobName = audioPaths.audio(projectId, source.chapterId, format.extension);
    const current = await existingMetadata(audio, blobName).catch(notFoundAsUndefined);
    if (
      current?.metadata["textsha256"] === metadata.textsha256 &&
      current.metadata["voice"] === voice &&
      (current.metadata["outputformat"] ?? "").toLowerCase() === format.name.toLowerCase()
    ) {
      return { ...entry, outcome: "already-current" };
    }
    if (options.apply) {
      // Streamed from the file: chapters of an hour are tens of MB.
      await audio.getBlockBlobClient(blobName).uploadFile(path, {
        blobHTTPHeaders: { blobContentType: format.contentType },
        metadata,
      });
    }
    return { ...entry, outcome: "adopted" };
  };
  report.chapters = await mapLimit(work, MIGRATE_CONCURRENCY, migrateChapter);
  report.counts.matched = report.chapters.filter((c) => c.audioFile !== undefined).length;
  report.audioWithoutText = orderBy([...audioById.values()].flat());

  for (const c of report.chapters) {
    if (c.outcome === "adopted") report.counts.adopted++;
    if (c.outcome === "already-current") report.counts.alreadyCurrent++;
    if (c.outcome === "no-audio") report.counts.textWithoutAudio++;
    if (c.outcome === "format-mismatch") report.counts.formatMismatches++;
    if (c.outcome === "voice-mismatch") report.counts.voiceMismatches++;
    if (c.outcome === "unreadable-audio") report.counts.unreadableAudio++;
    if (c.outcome === "invalid-text") report.counts.invalidTexts++;
  }
  report.counts.audioWithoutText = report.audioWithoutText.length;

  // The old tool made no word boundaries: with them on, adopted audio would never count as unchanged.
  if (report.counts.adopted + report.counts.alreadyCurrent > 0) {
    if (existing["wordBoundaries"] === undefined) {
      changes.wordBoundaries = false;
      notes.push(
        "wordBoundaries set to false: the adopted audio has no word boundaries; turn them on with `config --word-boundaries` and re-make everything with `start --force`.",
      );
    } else if (existing["wordBoundaries"] === true) {
      notes.push(
        "project.json asks for word boundaries: the adopted audio has none, so the next run re-makes it.",
      );
    }
  }
  for (const key of Object.keys(changes) as (keyof ProjectFile)[])
    if (changes[key] === undefined) delete changes[key];
  const written = await updateProjectJson(chapters, projectId, changes, { write: options.apply });
  report.projectFile = written.after;
  report.projectFileChanged = written.changed;
  return report;
}
