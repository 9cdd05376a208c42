import { PassThrough, type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { getOutputFormat } from "../speech/formats.js";
import type { WordBoundary } from "../speech/models.js";
import { deleteIfExists, writeText } from "../storage/blobs.js";
import type { SynthesisOptions } from "./contracts.js";
import type { PipelineDeps } from "./deps.js";
import { buildVideoMessage, encodeQueueMessage } from "./messages.js";
import type { JobChapter } from "./planning/schema.js";
import { audioPaths } from "./runState.js";
import { buildSrt } from "./srt.js";

/** Where a chapter's outputs went. */
export interface StoredChapter {
  audioBlob: string;
  sizeBytes: number;
  durationMs: number;
}

export interface ChapterContext {
  projectId: string;
  instanceId: string;
  options: SynthesisOptions;
  /**
   * The run the chapter is stored for: its video message is sent once in it (marked in the run store right
   * after the send, and not sent again when marked: a chapter stored again after a crash). Without it the
   * message is always sent.
   */
  runId?: string;
}

const UPLOAD_BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * Stores one chapter's audio, word boundaries and subtitles, then sends its video message. The audio's
 * `textsha256` metadata (what makes a later run see the chapter as unchanged) is set last, after the
 * message is sent, so a crash in between can never leave a chapter "unchanged" whose message was lost.
 * Re-running it writes the same blobs; with `runId` the message is not repeated either (only a
 * crash between the send and the marker's write can repeat it, with the same idempotencyKey).
 */
export async function storeChapterOutputs(
  deps: PipelineDeps,
  ctx: ChapterContext,
  chapter: JobChapter,
  audio: Readable | Buffer,
  info: {
    durationMs?: number;
    words?: () => Promise<WordBoundary[] | undefined>;
    /** Exact length of `audio` with a way to open it again: one unbuffered Put Blob (retries reopen it). */
    audioBytes?: number;
    reopenAudio?: () => Promise<Readable>;
  },
): Promise<StoredChapter> {
  const format = getOutputFormat(ctx.options.outputFormat);
  const container = deps.storage.audio;
  const audioBlob = audioPaths.audio(ctx.projectId, chapter.chapterId, format.extension);
  const blob = container.getBlockBlobClient(audioBlob);
  const baseMetadata = { chapterid: encodeURIComponent(chapter.chapterId) };
  // The word boundaries are read, and the subtitles written, while the audio uploads (independent reads
  // of the results zip or the service, and writes of other blobs): the chapter's video message waits for
  // the slower of the two, not their sum.
  const wordsStored = storeSubtitles(
    container,
    ctx.projectId,
    chapter,
    ctx.options.wordBoundaries,
    info.words,
  );
  const run = ctx.runId === undefined ? undefined : { projectId: ctx.projectId, runId: ctx.runId };
  // Whether this run already announced the chapter (a store repeated after a crash): only a holder of the
  // chapter's claim writes that marker, so it can be read now, beside the upload.
  const announced = run ? deps.runs.isAnnounced(run, chapter.chapterId) : Promise.resolve(false);
  // Handled now so a failure while the audio still uploads is not an unhandled rejection; awaited below.
  wordsStored.catch(() => {});
  announced.catch(() => {});
  let sizeBytes: number;
  if (Buffer.isBuffer(audio)) {
    sizeBytes = audio.length;
    await blob.upload(audio, audio.length, {
      blobHTTPHeaders: { blobContentType: format.contentType },
      metadata: baseMetadata,
    });
  } else if (info.audioBytes !== undefined && info.reopenAudio) {
    // Length known: stream it straight into one Put Blob. uploadStream holds a 4 MB block plus what it
    // reads ahead for every chapter in flight, which made collecting the largest part of peak RSS.
    const reopen = info.reopenAudio;
    let first: Readable | undefined = audio;
    const body = () => {
      const source = first;
      first = undefined;
      if (source) return source;
      const again = new PassThrough();
      reopen().then(
        (s) => pipeline(s, again).catch((error: Error) => again.destroy(error)),
        (error: Error) => again.destroy(error),
      );
      return again;
    };
    await blob.upload(body, info.audioBytes, {
      blobHTTPHeaders: { blobContentType: format.contentType },
      metadata: baseMetadata,
    });
    sizeBytes = info.audioBytes;
  } else {
    let counted = 0;
    const counter = new Transform({
      transform(piece: Buffer, _encoding, done) {
        counted += piece.length;
        done(null, piece);
      },
    });
    const upload = blob.uploadStream(counter, UPLOAD_BLOCK_BYTES, 2, {
      blobHTTPHeaders: { blobContentType: format.contentType },
      metadata: baseMetadata,
    });
    await Promise.all([pipeline(audio, counter), upload]);
    sizeBytes = counted;
  }

  const { words, subtitlesBlob } = await wordsStored;
  let durationMs = info.durationMs ?? 0;
  if (!durationMs && words && words.length > 0) {
    const last = words[words.length - 1] as WordBoundary;
    durationMs = last.offsetMs + last.durationMs;
  }

  const message = buildVideoMessage({
    projectId: ctx.projectId,
    chapterId: chapter.chapterId,
    chapterIndex: chapter.index,
    container: container.containerName,
    audioBlob,
    audioUrl: blob.url,
    contentType: format.contentType,
    durationMs,
    sizeBytes,
    subtitlesBlob,
    textSha256: chapter.textSha256,
    voice: ctx.options.voice,
    outputFormat: format.name,
    instanceId: ctx.instanceId,
  });
  if (!(await announced)) {
    await deps.storage.videoQueue.sendMessage(encodeQueueMessage(message));
    // Written at once: only a crash between the send and this write can still repeat the message.
    if (run) await deps.runs.markAnnounced(run, chapter.chapterId);
  }

  await blob.setMetadata({
    ...baseMetadata,
    textsha256: chapter.textSha256,
    voice: ctx.options.voice,
    outputformat: format.name,
    durationms: String(Math.round(durationMs)),
  });
  return { audioBlob, sizeBytes, durationMs: Math.round(durationMs) };
}

/**
 * Writes a chapter's word boundaries and subtitles (with word boundaries on), or deletes those of an earlier
 * text, which would no longer match the new audio.
 */
async function storeSubtitles(
  container: PipelineDeps["storage"]["audio"],
  projectId: string,
  chapter: JobChapter,
  wordBoundaries: boolean,
  readWords: (() => Promise<WordBoundary[] | undefined>) | undefined,
): Promise<{ words: WordBoundary[] | undefined; subtitlesBlob: string | null }> {
  const wordsBlob = audioPaths.words(projectId, chapter.chapterId);
  const srtBlob = audioPaths.srt(projectId, chapter.chapterId);
  if (!wordBoundaries) {
    await Promise.all([deleteIfExists(container, wordsBlob), deleteIfExists(container, srtBlob)]);
    return { words: undefined, subtitlesBlob: null };
  }
  const words = await readWords?.();
  const list = words ?? [];
  // Stamped with the text's hash, so a later run can tell these subtitles belong to this text.
  const metadata = { textsha256: chapter.textSha256 };
  await Promise.all([
    writeText(container, wordsBlob, JSON.stringify(list), "application/json; charset=utf-8", metadata),
    writeText(container, srtBlob, buildSrt(list), "application/x-subrip; charset=utf-8", metadata),
  ]);
  return { words, subtitlesBlob: srtBlob };
}
