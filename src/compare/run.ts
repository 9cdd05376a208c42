import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerClient } from "@azure/storage-blob";
import { z } from "zod";
import {
  type ChapterSource,
  classifyProjectBlobs,
  decodeChapterText,
  naturalCompare,
  sha256Hex,
} from "../pipeline/planning/chapters.js";
import { audioPaths } from "../pipeline/runState.js";
import type { RealtimeSynthesisPort } from "../pipeline/speechPorts.js";
import { findOutputFormat, type OutputFormatInfo } from "../speech/formats.js";
import type { WordBoundary } from "../speech/models.js";
import { realtimeRequests } from "../speech/RealtimeSynthesisClient.js";
import { downloadBytes, listBlobs } from "../storage/blobs.js";
import { billableCharacters } from "../text/index.js";
import { type AudioMeasurement, measureAudio } from "./measure.js";
import { renderReportHtml } from "./report.js";
import {
  type ChapterMetrics,
  type Check,
  judgeChapter,
  type Thresholds,
  type WordTiming,
  wordTiming,
} from "./verdict.js";

/**
 * `tts-pipeline compare`: synthesizes chosen chapters through the realtime path into
 * `audio/{projectId}/_compare/` (never over the real outputs) and compares them with the batch outputs.
 */

export const COMPARE_PREFIX = "_compare";
const AUDIO_EXTENSIONS = ["mp3", "wav", "ogg", "webm", "opus", "pcm", "amr", "silk"] as const;
export const comparePaths = {
  audio: (projectId: string, chapterId: string, extension: string) =>
    `${projectId}/${COMPARE_PREFIX}/${chapterId}.${extension}`,
  reportJson: (projectId: string) => `${projectId}/${COMPARE_PREFIX}/report.json`,
  reportHtml: (projectId: string) => `${projectId}/${COMPARE_PREFIX}/report.html`,
};

export interface CompareTarget {
  chapterId: string;
  source: ChapterSource;
  text: string;
  textSha256: string;
  batchBlob: string;
  voice: string;
  format: OutputFormatInfo;
  billableCharacters: number;
  /** A realtime rendition of this very text, voice and format is already under _compare/ (not billed again). */
  reuse: boolean;
}

export interface ComparePlan {
  projectId: string;
  targets: CompareTarget[];
  /** Chapters left out, with why (no batch audio, audio of an older text, made by realtime). */
  skipped: { chapterId: string; why: string }[];
  /** Characters the realtime requests of this comparison bill. */
  billableCharacters: number;
}

export interface ChapterComparison {
  chapterId: string;
  pass: boolean;
  checks: Check[];
  metrics: ChapterMetrics;
  batch: AudioMeasurement & { blob: string };
  realtime: AudioMeasurement & { blob: string };
  words: WordTiming | null;
}

export interface CompareReport {
  projectId: string;
  createdAt: string;
  pass: boolean;
  thresholds: Thresholds;
  /** What the realtime requests of this comparison billed, as the client counted them (reused chapters: 0). */
  billableCharacters: number;
  chapters: ChapterComparison[];
  skipped: { chapterId: string; why: string }[];
  reportJsonBlob: string;
  reportHtmlBlob: string;
}

export interface CompareStorage {
  chapters: ContainerClient;
  audio: ContainerClient;
}

const manifestModesSchema = z.object({
  chapters: z.array(
    z.object({ chapterId: z.string(), mode: z.enum(["batch", "realtime"]).nullish() }).loose(),
  ),
});

/**
 * What the realtime requests for a chapter bill: the requests the realtime client's `synthesizeLong` sends
 * ({@link realtimeRequests}, at the default 150 words a minute), counted by Azure's rule per request.
 */
export function realtimeBillableCharacters(text: string, kind: "text" | "ssml", voice: string): number {
  const { chunks } = realtimeRequests(kind === "ssml" ? { ssml: text, voice } : { text, voice });
  return chunks.reduce((n, chunk) => n + billableCharacters(chunk, "SSML"), 0);
}

/** Evenly spread picks (first and last included), so a sample sees the whole book. */
export function spreadSample<T>(items: readonly T[], n: number): T[] {
  if (n >= items.length) return [...items];
  if (n === 1) return [items[Math.floor(items.length / 2)] as T];
  const picks = new Set<number>();
  for (let i = 0; i < n; i++) picks.add(Math.round((i * (items.length - 1)) / (n - 1)));
  return [...picks].sort((a, b) => a - b).map((i) => items[i] as T);
}

/** Chooses the chapters to compare and what the realtime side will bill; reads only. */
export async function planComparison(
  storage: CompareStorage,
  projectId: string,
  selection: { sample?: number; chapters?: string[] },
): Promise<ComparePlan> {
  const [chapterItems, audioItems, manifestBytes] = await Promise.all([
    listBlobs(storage.chapters, `${projectId}/`, { metadata: true }),
    listBlobs(storage.audio, `${projectId}/`, { metadata: true }),
    downloadBytes(storage.audio, audioPaths.manifest(projectId)),
  ]);
  const listing = classifyProjectBlobs(
    projectId,
    chapterItems.map((i) => i.name),
  );
  if (listing.chapters.length === 0) throw new Error(`Project ${projectId} has no chapters.`);
  const modes = new Map<string, string>();
  if (manifestBytes) {
    const parsed = manifestModesSchema.safeParse(JSON.parse(manifestBytes.toString("utf8")));
    for (const c of parsed.success ? parsed.data.chapters : []) if (c.mode) modes.set(c.chapterId, c.mode);
  }
  const audioByName = new Map(audioItems.map((i) => [i.name, i]));
  const known = new Set(listing.chapters.map((c) => c.chapterId));
  const unknown = (selection.chapters ?? []).filter((id) => !known.has(id));
  if (unknown.length) throw new Error(`Not chapters of ${projectId}: ${unknown.join(", ")}.`);
  const wanted = selection.chapters ? new Set(selection.chapters) : undefined;

  const eligible: CompareTarget[] = [];
  const skipped: ComparePlan["skipped"] = [];
  for (const source of listing.chapters) {
    if (wanted && !wanted.has(source.chapterId)) continue;
    // The batch output of the chapter: `{chapter}.{ext}` whose metadata names a format of that extension.
    const audio = AUDIO_EXTENSIONS.map((ext) =>
      audioByName.get(audioPaths.audio(projectId, source.chapterId, ext)),
    ).find(
      (item) =>
        item &&
        findOutputFormat(item.metadata?.["outputformat"] ?? "")?.extension === item.name.split(".").pop(),
    );
    const format = audio && findOutputFormat(audio.metadata?.["outputformat"] ?? "");
    if (!audio || !format) {
      skipped.push({ chapterId: source.chapterId, why: "no stored audio" });
      continue;
    }
    if (modes.get(source.chapterId) === "realtime") {
      skipped.push({ chapterId: source.chapterId, why: "its audio was made by realtime, not batch" });
      continue;
    }
    const bytes = await downloadBytes(storage.chapters, source.sourceBlob);
    const text = bytes && decodeChapterText(bytes);
    if (!text) {
      skipped.push({ chapterId: source.chapterId, why: "text unreadable" });
      continue;
    }
    const textSha256 = sha256Hex(text);
    if (audio.metadata?.["textsha256"] !== textSha256) {
      skipped.push({
        chapterId: source.chapterId,
        why: "its audio is of an older text (run the project first)",
      });
      continue;
    }
    const voice = audio.metadata?.["voice"] ?? "";
    const previous = audioByName.get(comparePaths.audio(projectId, source.chapterId, format.extension));
    const reuse =
      previous?.metadata?.["textsha256"] === textSha256 &&
      previous.metadata?.["voice"] === voice &&
      previous.metadata?.["outputformat"] === format.name;
    eligible.push({
      chapterId: source.chapterId,
      source,
      text,
      textSha256,
      batchBlob: audio.name,
      voice,
      format,
      billableCharacters: realtimeBillableCharacters(text, source.kind, voice),
      reuse,
    });
  }
  if (wanted) {
    const missing = skipped.filter((s) => wanted.has(s.chapterId));
    if (missing.length) {
      throw new Error(`Cannot compare ${missing.map((s) => `${s.chapterId} (${s.why})`).join(", ")}.`);
    }
  }
  const targets = wanted ? eligible : spreadSample(eligible, selection.sample ?? 3);
  if (targets.length === 0) throw new Error(`Project ${projectId} has no batch audio to compare yet.`);
  targets.sort((a, b) => naturalCompare(a.chapterId, b.chapterId));
  return {
    projectId,
    targets,
    skipped,
    billableCharacters: targets.filter((t) => !t.reuse).reduce((n, t) => n + t.billableCharacters, 0),
  };
}

const storedWordsSchema = z.array(
  z.object({ text: z.string(), offsetMs: z.number(), durationMs: z.number() }),
);

/** Synthesizes (or reuses) the realtime side, measures both sides, judges and stores the reports. */
export async function runComparison(
  storage: CompareStorage,
  plan: ComparePlan,
  deps: {
    realtime: RealtimeSynthesisPort;
    thresholds: Thresholds;
    now: () => Date;
    onChapter?: (c: ChapterComparison) => void;
  },
): Promise<CompareReport> {
  const dir = await mkdtemp(join(tmpdir(), "tts-compare-"));
  const silence = {
    noiseDb: deps.thresholds.COMPARE_SILENCE_NOISE_DB,
    minSeconds: deps.thresholds.COMPARE_SILENCE_MIN_SECONDS,
  };
  const chapters: ChapterComparison[] = [];
  // What the realtime requests really billed (a request cut at 10 minutes is sent again, and billed twice).
  let billed = 0;
  try {
    for (const target of plan.targets) {
      const { projectId } = plan;
      const realtimeBlob = comparePaths.audio(projectId, target.chapterId, target.format.extension);
      let realtimeAudio: Buffer | undefined = target.reuse
        ? await downloadBytes(storage.audio, realtimeBlob)
        : undefined;
      if (!realtimeAudio) {
        const result = await deps.realtime.synthesizeLong({
          ...(target.source.kind === "ssml" ? { ssml: target.text } : { text: target.text }),
          voice: target.voice,
          outputFormat: target.format.name,
        });
        realtimeAudio = result.audio;
        billed += result.characters;
        await storage.audio.getBlockBlobClient(realtimeBlob).uploadData(realtimeAudio, {
          blobHTTPHeaders: { blobContentType: target.format.contentType },
          metadata: {
            chapterid: encodeURIComponent(target.chapterId),
            textsha256: target.textSha256,
            voice: target.voice,
            outputformat: target.format.name,
          },
        });
      }
      const batchAudio = await downloadBytes(storage.audio, target.batchBlob);
      if (!batchAudio) throw new Error(`${target.batchBlob} disappeared while comparing.`);
      const batchPath = join(dir, `batch-${target.chapterId}.${target.format.extension}`);
      const realtimePath = join(dir, `realtime-${target.chapterId}.${target.format.extension}`);
      await Promise.all([writeFile(batchPath, batchAudio), writeFile(realtimePath, realtimeAudio)]);
      const [batch, realtime] = await Promise.all([
        measureAudio(batchPath, target.format, silence),
        measureAudio(realtimePath, target.format, silence),
      ]);
      const wordsBytes = await downloadBytes(storage.audio, audioPaths.words(projectId, target.chapterId));
      const storedWords = wordsBytes
        ? storedWordsSchema.safeParse(JSON.parse(wordsBytes.toString("utf8")))
        : undefined;
      const words: WordBoundary[] | undefined = storedWords?.success ? storedWords.data : undefined;
      const timing = words ? wordTiming(target.text, target.source.kind, words, batch.durationSeconds) : null;
      const judged = judgeChapter(batch, realtime, timing, deps.thresholds);
      const comparison: ChapterComparison = {
        chapterId: target.chapterId,
        ...judged,
        batch: { ...batch, blob: target.batchBlob },
        realtime: { ...realtime, blob: realtimeBlob },
        words: timing,
      };
      chapters.push(comparison);
      deps.onChapter?.(comparison);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const report: CompareReport = {
    projectId: plan.projectId,
    createdAt: deps.now().toISOString(),
    pass: chapters.every((c) => c.pass),
    thresholds: deps.thresholds,
    billableCharacters: billed,
    chapters,
    skipped: plan.skipped,
    reportJsonBlob: comparePaths.reportJson(plan.projectId),
    reportHtmlBlob: comparePaths.reportHtml(plan.projectId),
  };
  await storage.audio
    .getBlockBlobClient(report.reportJsonBlob)
    .uploadData(Buffer.from(JSON.stringify(report, null, 2), "utf8"), {
      blobHTTPHeaders: { blobContentType: "application/json; charset=utf-8" },
    });
  await storage.audio
    .getBlockBlobClient(report.reportHtmlBlob)
    .uploadData(Buffer.from(renderReportHtml(report), "utf8"), {
      blobHTTPHeaders: { blobContentType: "text/html; charset=utf-8" },
    });
  return report;
}
