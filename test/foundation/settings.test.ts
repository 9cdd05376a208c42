import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings.js";

describe("settings", () => {
  it("applies the CONTRACT defaults", () => {
    const s = parseSettings({ AzureWebJobsStorage: "UseDevelopmentStorage=true", SPEECH_REGION: "eastus" });
    expect(s).toMatchObject({
      CHAPTERS_CONTAINER: "chapters",
      AUDIO_CONTAINER: "audio",
      VIDEO_QUEUE: "video-requests",
      DEFAULT_VOICE: "en-US-AvaMultilingualNeural",
      DEFAULT_OUTPUT_FORMAT: "audio-24khz-96kbitrate-mono-mp3",
      SYNTHESIS_MODE: "batch",
      MAX_CHAPTERS_PER_JOB: 100,
      MAX_JOB_PAYLOAD_BYTES: 1_900_000,
      MAX_CONCURRENT_JOBS: 3,
      MAX_CHAPTER_ATTEMPTS: 3,
      PRICE_PER_MILLION_CHARACTERS: 15,
    });
  });

  it("names bad settings without echoing secret values", () => {
    const secret = "super-secret-key-value";
    expect(() =>
      parseSettings({ AzureWebJobsStorage: secret, SPEECH_KEY: secret, MAX_CONCURRENT_JOBS: "zero" }),
    ).toThrow(/MAX_CONCURRENT_JOBS/);
    try {
      parseSettings({ AzureWebJobsStorage: secret, SPEECH_KEY: secret, MAX_CONCURRENT_JOBS: "zero" });
    } catch (error) {
      expect(String(error)).not.toContain(secret);
    }
  });
});
