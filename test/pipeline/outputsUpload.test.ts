import { Readable } from "node:stream";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { parseSettings } from "../../src/config/settings.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { decodeQueueMessage, videoMessageSchema } from "../../src/pipeline/messages.js";
import { storeChapterOutputs } from "../../src/pipeline/outputs.js";
import type { JobChapter } from "../../src/pipeline/planning/schema.js";
import { createPipelineDeps } from "../../src/pipeline/runtime.js";
import { uniqueName } from "../support/names.js";

/** A chapter's audio of known length goes to Azurite as one unbuffered Put Blob, byte for byte. */
let deps: PipelineDeps;

beforeAll(async () => {
  deps = createPipelineDeps(
    parseSettings({
      AzureWebJobsStorage: inject("azuriteConnectionString"),
      SPEECH_ENDPOINT: "http://127.0.0.1:9",
      SPEECH_KEY: "unused",
      CHAPTERS_CONTAINER: uniqueName("chapters"),
      AUDIO_CONTAINER: uniqueName("audio"),
      VIDEO_QUEUE: uniqueName("video"),
      WORK_CONTAINER: uniqueName("work"),
    }),
  );
  await deps.storage.audio.createIfNotExists();
  await deps.storage.videoQueue.createIfNotExists();
});

const chapter: JobChapter = {
  chapterId: "0001-the-lamp",
  index: 0,
  sourceBlob: "book/0001-the-lamp.txt",
  kind: "text",
  characters: 10,
  billableCharacters: 10,
  textSha256: "b".repeat(64),
  inputBytes: 10,
  attempts: 0,
};

/** 6 MB of a recognisable pattern in 64 KB pieces (larger than uploadStream's 4 MB block). */
function audioBytes(): Buffer {
  const bytes = Buffer.alloc(6 * 1024 * 1024 + 123);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
  return bytes;
}
const pieces = (bytes: Buffer) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += 65_536) yield bytes.subarray(at, at + 65_536);
    })(),
  );

describe("storeChapterOutputs with a known audio length", () => {
  it("stores the exact bytes in one Put Blob and announces their size", async () => {
    const bytes = audioBytes();
    let reopened = 0;
    const stored = await storeChapterOutputs(
      deps,
      {
        projectId: "upload-test",
        instanceId: "tts-upload-test",
        options: {
          voice: "en-US-AvaMultilingualNeural",
          outputFormat: "audio-16khz-32kbitrate-mono-mp3",
          wordBoundaries: false,
        },
      },
      chapter,
      pieces(bytes),
      {
        durationMs: 1000,
        audioBytes: bytes.length,
        reopenAudio: async () => {
          reopened++;
          return pieces(bytes);
        },
      },
    );
    expect(stored.sizeBytes).toBe(bytes.length);
    const blob = deps.storage.audio.getBlockBlobClient(stored.audioBlob);
    expect((await blob.downloadToBuffer()).equals(bytes)).toBe(true);
    // One Put Blob: no blocks were staged (uploadStream commits a block list).
    const blocks = await blob.getBlockList("all");
    expect(blocks.committedBlocks ?? []).toHaveLength(0);
    expect((await blob.getProperties()).contentType).toBe("audio/mpeg");
    // Nothing failed, so the first stream was enough.
    expect(reopened).toBe(0);
    const [message] = (await deps.storage.videoQueue.receiveMessages({ numberOfMessages: 1 }))
      .receivedMessageItems;
    const parsed = videoMessageSchema.parse(decodeQueueMessage(message?.messageText ?? ""));
    expect(parsed.audio.sizeBytes).toBe(bytes.length);
  });
});
