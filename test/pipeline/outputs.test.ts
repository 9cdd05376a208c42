import { describe, expect, it } from "vitest";
import {
  buildVideoMessage,
  decodeQueueMessage,
  encodeQueueMessage,
  idempotencyKey,
  videoMessageSchema,
} from "../../src/pipeline/messages.js";
import {
  approximateWordBoundaries,
  buildCues,
  buildSrt,
  formatSrtTime,
  MAX_CUE_CHARACTERS,
  ssmlToPlainText,
} from "../../src/pipeline/srt.js";

describe("subtitles", () => {
  it("formats SRT times", () => {
    expect(formatSrtTime(0)).toBe("00:00:00,000");
    expect(formatSrtTime(3_723_004)).toBe("01:02:03,004");
  });

  it("builds numbered cues from word boundaries, punctuation joined, split at sentence ends", () => {
    const words = [
      { text: "Hello", offsetMs: 0, durationMs: 400 },
      { text: ",", offsetMs: 400, durationMs: 50 },
      { text: "world", offsetMs: 500, durationMs: 400 },
      { text: ".", offsetMs: 900, durationMs: 50 },
      { text: "Again", offsetMs: 1500, durationMs: 300 },
    ];
    expect(buildSrt(words)).toBe(
      "1\n00:00:00,000 --> 00:00:00,950\nHello, world.\n\n2\n00:00:01,500 --> 00:00:02,300\nAgain\n",
    );
  });

  it("keeps cues short, ordered and non-overlapping", () => {
    const text =
      "The quick brown fox jumps over the lazy dog and keeps on running far away into the night without stopping";
    const words = approximateWordBoundaries(text, 20_000);
    const cues = buildCues(words);
    expect(cues.length).toBeGreaterThan(2);
    for (const [i, cue] of cues.entries()) {
      expect(cue.text.length).toBeLessThanOrEqual(MAX_CUE_CHARACTERS);
      expect(cue.endMs).toBeGreaterThan(cue.startMs);
      if (i > 0) expect(cue.startMs).toBeGreaterThanOrEqual(cues[i - 1]?.endMs as number);
    }
    expect(cues.map((c) => c.text).join(" ")).toBe(text);
  });

  it("reads the spoken text of SSML with named and numeric character references decoded once", () => {
    const ssml =
      "<speak><voice name='v'>Caf&#233; &#x2014; fish &amp; chips &lt; 5 &quot;ok&quot; &amp;lt;kept&amp;gt;</voice></speak>";
    expect(ssmlToPlainText(ssml).trim()).toBe('Café — fish & chips < 5 "ok" &lt;kept&gt;');
  });

  it("gives an empty document for no words", () => {
    expect(buildSrt([])).toBe("");
  });
});

describe("video message", () => {
  const audio = {
    projectId: "lotm-book1",
    chapterId: "0007-the-fool",
    chapterIndex: 6,
    container: "audio",
    audioBlob: "lotm-book1/0007-the-fool.mp3",
    audioUrl: "https://acct.blob.core.windows.net/audio/lotm-book1/0007-the-fool.mp3?sv=2024&sig=SECRET",
    contentType: "audio/mpeg",
    durationMs: 612345.4,
    sizeBytes: 7348140,
    subtitlesBlob: "lotm-book1/0007-the-fool.srt",
    textSha256: "a".repeat(64),
    voice: "en-US-AvaMultilingualNeural",
    outputFormat: "audio-24khz-96kbitrate-mono-mp3",
    instanceId: "tts-lotm-book1",
  };

  it("matches the contract and carries no SAS", () => {
    const message = buildVideoMessage(audio);
    expect(message).toEqual({
      schema: "tts-pipeline/chapter-audio-ready@1",
      projectId: "lotm-book1",
      chapterId: "0007-the-fool",
      chapterIndex: 6,
      audio: {
        container: "audio",
        blobName: "lotm-book1/0007-the-fool.mp3",
        url: "https://acct.blob.core.windows.net/audio/lotm-book1/0007-the-fool.mp3",
        contentType: "audio/mpeg",
        durationMs: 612345,
        sizeBytes: 7348140,
      },
      subtitles: { container: "audio", blobName: "lotm-book1/0007-the-fool.srt" },
      textSha256: "a".repeat(64),
      voice: "en-US-AvaMultilingualNeural",
      outputFormat: "audio-24khz-96kbitrate-mono-mp3",
      instanceId: "tts-lotm-book1",
      idempotencyKey: `lotm-book1/0007-the-fool/${"a".repeat(64)}/en-US-AvaMultilingualNeural/audio-24khz-96kbitrate-mono-mp3`,
    });
    expect(JSON.stringify(message)).not.toContain("sig=");
    expect(idempotencyKey(audio)).toBe(message.idempotencyKey);
  });

  it("has null subtitles when word boundaries are off", () => {
    expect(buildVideoMessage({ ...audio, subtitlesBlob: null }).subtitles).toBeNull();
  });

  it("round-trips as base64 UTF-8 JSON", () => {
    const message = buildVideoMessage({ ...audio, chapterId: "kapitel-ü" });
    const encoded = encodeQueueMessage(message);
    expect(encoded).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(videoMessageSchema.parse(decodeQueueMessage(encoded))).toEqual(message);
  });
});
