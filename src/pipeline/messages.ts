import { z } from "zod";

/** The video step's message (CONTRACT §2), versioned by `schema`. */
export const VIDEO_MESSAGE_SCHEMA = "tts-pipeline/chapter-audio-ready@1";

export const videoMessageSchema = z
  .object({
    schema: z.literal(VIDEO_MESSAGE_SCHEMA),
    projectId: z.string(),
    chapterId: z.string(),
    chapterIndex: z.number().int().nonnegative(),
    audio: z.object({
      container: z.string(),
      blobName: z.string(),
      url: z.string().url(),
      contentType: z.string(),
      durationMs: z.number().nonnegative(),
      sizeBytes: z.number().int().nonnegative(),
    }),
    subtitles: z.object({ container: z.string(), blobName: z.string() }).nullable(),
    textSha256: z.string().regex(/^[0-9a-f]{64}$/),
    voice: z.string(),
    outputFormat: z.string(),
    instanceId: z.string(),
    idempotencyKey: z.string(),
  })
  .strict();
export type VideoMessage = z.infer<typeof videoMessageSchema>;

export interface ChapterAudio {
  projectId: string;
  chapterId: string;
  chapterIndex: number;
  container: string;
  audioBlob: string;
  /** Blob URL without any SAS or query string. */
  audioUrl: string;
  contentType: string;
  durationMs: number;
  sizeBytes: number;
  subtitlesBlob: string | null;
  textSha256: string;
  voice: string;
  outputFormat: string;
  instanceId: string;
}

/** Same chapter text, voice and format give the same key, so the video step can drop repeats. */
export function idempotencyKey(
  a: Pick<ChapterAudio, "projectId" | "chapterId" | "textSha256" | "voice" | "outputFormat">,
) {
  return `${a.projectId}/${a.chapterId}/${a.textSha256}/${a.voice}/${a.outputFormat}`;
}

/** Strips query and fragment: a URL in a message must never carry a SAS token. */
export function urlWithoutQuery(url: string): string {
  const parsed = new URL(url);
  parsed.search = "";
  parsed.hash = "";
  return parsed.toString();
}

export function buildVideoMessage(a: ChapterAudio): VideoMessage {
  return videoMessageSchema.parse({
    schema: VIDEO_MESSAGE_SCHEMA,
    projectId: a.projectId,
    chapterId: a.chapterId,
    chapterIndex: a.chapterIndex,
    audio: {
      container: a.container,
      blobName: a.audioBlob,
      url: urlWithoutQuery(a.audioUrl),
      contentType: a.contentType,
      durationMs: Math.round(a.durationMs),
      sizeBytes: a.sizeBytes,
    },
    subtitles: a.subtitlesBlob ? { container: a.container, blobName: a.subtitlesBlob } : null,
    textSha256: a.textSha256,
    voice: a.voice,
    outputFormat: a.outputFormat,
    instanceId: a.instanceId,
    idempotencyKey: idempotencyKey(a),
  });
}

/** Queue body as an Azure Functions queue trigger expects by default: base64 of UTF-8 JSON. */
export function encodeQueueMessage(message: unknown): string {
  return Buffer.from(JSON.stringify(message), "utf8").toString("base64");
}

export function decodeQueueMessage(text: string): unknown {
  return JSON.parse(Buffer.from(text, "base64").toString("utf8"));
}
