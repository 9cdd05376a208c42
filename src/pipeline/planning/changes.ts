import { z } from "zod";
import { findOutputFormat } from "../../speech/formats.js";
import type { EffectiveOptions } from "../options.js";
import { audioPaths } from "../runState.js";
import type { PlannedChapter } from "./schema.js";

/**
 * Change detection, pure: which chapters already have current audio (same text hash, voice, format and,
 * with word boundaries, subtitles of the same text), and how a chapter outside a run's `chapters` subset
 * is carried over from the previous manifest.
 */

/** An output blob of the audio container as change detection needs it (the use case lists them). */
export interface ExistingOutput {
  name: string;
  /** Blob metadata (keys lower-case, as the service returns them): textsha256, voice, outputformat, durationms. */
  metadata?: Record<string, string> | undefined;
  sizeBytes: number;
}

/** The project's output blobs by name. */
export type ExistingOutputs = ReadonlyMap<string, ExistingOutput>;

/** The chapter's current audio, or undefined when it must be synthesized again. */
export function isUnchanged(
  chapter: { chapterId: string; textSha256: string },
  projectId: string,
  options: Pick<EffectiveOptions, "voice" | "outputFormat" | "wordBoundaries">,
  existing: ExistingOutputs,
): ExistingOutput | undefined {
  const extension = findOutputFormat(options.outputFormat)?.extension ?? "bin";
  const audio = existing.get(audioPaths.audio(projectId, chapter.chapterId, extension));
  const meta = audio?.metadata ?? {};
  if (!audio) return undefined;
  if (meta["textsha256"] !== chapter.textSha256) return undefined;
  if (meta["voice"] !== options.voice) return undefined;
  if ((meta["outputformat"] ?? "").toLowerCase() !== options.outputFormat.toLowerCase()) return undefined;
  if (options.wordBoundaries) {
    // The subtitles must be those of this text: a run without word boundaries may have replaced the audio
    // while older subtitles stayed behind (outputs.ts now deletes them, and stamps new ones with the hash).
    for (const name of [
      audioPaths.srt(projectId, chapter.chapterId),
      audioPaths.words(projectId, chapter.chapterId),
    ]) {
      if (existing.get(name)?.metadata?.["textsha256"] !== chapter.textSha256) return undefined;
    }
  }
  return audio;
}

/** What a planned chapter records of its existing audio. */
export function existingAudioFields(
  audio: ExistingOutput,
): Pick<PlannedChapter, "audioBlob" | "sizeBytes" | "durationMs"> {
  const durationMs = Number(audio.metadata?.["durationms"]);
  return {
    audioBlob: audio.name,
    sizeBytes: audio.sizeBytes,
    ...(Number.isFinite(durationMs) ? { durationMs } : {}),
  };
}

/** A chapter of the previous manifest, as far as carrying it over needs. */
const previousChapterSchema = z.object({
  chapterId: z.string(),
  textSha256: z.string(),
  status: z.string(),
  reason: z.string().nullish(),
  durationMs: z.number().nullish(),
  sizeBytes: z.number().nullish(),
  batchJobId: z.string().nullish(),
  attempts: z.number().int().nonnegative().nullish(),
  mode: z.enum(["batch", "realtime"]).nullish(),
});
export type PreviousChapter = z.infer<typeof previousChapterSchema>;

/** The chapters of a previous manifest (any JSON, or undefined), by id; unreadable entries are left out. */
export function previousChaptersOf(manifest: unknown): Map<string, PreviousChapter> {
  const list = z.object({ chapters: z.array(z.unknown()) }).safeParse(manifest);
  const byId = new Map<string, PreviousChapter>();
  for (const entry of list.success ? list.data.chapters : []) {
    const parsed = previousChapterSchema.safeParse(entry);
    if (parsed.success) byId.set(parsed.data.chapterId, parsed.data);
  }
  return byId;
}

/** Reason of a chapter outside a `chapters` subset that has no current audio (never made, or for other text). */
export const NOT_SELECTED_REASON = "not-selected";

/**
 * A chapter outside the run's `chapters` subset, as the manifest lists it: rejected if its input is bad;
 * with current audio, its previous status (`succeeded`/`unchanged`, else `unchanged`) and details; a
 * previous failure of the same text stays `failed`; otherwise `failed` with reason `not-selected`.
 */
export function carryChapter(
  assessed: PlannedChapter,
  audio: ExistingOutput | undefined,
  previous: PreviousChapter | undefined,
): PlannedChapter {
  const carried: PlannedChapter = { ...assessed, carried: true };
  if (assessed.status === "rejected") return carried;
  const same = previous && previous.textSha256 === assessed.textSha256 ? previous : undefined;
  const details = {
    ...(same?.batchJobId ? { batchJobId: same.batchJobId } : {}),
    ...(same?.attempts ? { attempts: same.attempts } : {}),
    ...(same?.mode ? { mode: same.mode } : {}),
  };
  if (audio) {
    return {
      ...carried,
      ...details,
      status: same?.status === "succeeded" ? "succeeded" : "unchanged",
      ...existingAudioFields(audio),
    };
  }
  if (same?.status === "failed") {
    return { ...carried, ...details, status: "failed", reason: same.reason ?? NOT_SELECTED_REASON };
  }
  return { ...carried, status: "failed", reason: NOT_SELECTED_REASON };
}
