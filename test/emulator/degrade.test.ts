import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client, decodeWav, download, ssml, unzip, waitForTerminal } from "./helpers.js";

/** `[[emulator:degrade]]` (CONTRACT §8): batch audio of that input is 25 % slower than realtime's, timings too. */
describe.each(["fast", "synthetic"] as const)(
  "Speech emulator: [[emulator:degrade]] (%s audio)",
  (audioMode) => {
    let emulator: TestEmulator;
    beforeAll(async () => {
      emulator = await startTestEmulator({ audioMode });
    });
    afterAll(async () => {
      await emulator?.stop();
    });

    const text = "The keeper wrote the weather in the ledger, and the ship waited outside the harbour.";
    const realtimeWav = async (body: string) => {
      const response = await fetch(`${emulator.url}/cognitiveservices/v1`, {
        method: "POST",
        headers: {
          "Ocp-Apim-Subscription-Key": emulator.key,
          "Content-Type": "application/ssml+xml",
          "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
        },
        body,
      });
      expect(response.status).toBe(200);
      return decodeWav(Buffer.from(await response.arrayBuffer()));
    };

    it("slows the batch output of the marked input only; realtime is as without the marker", async () => {
      const id = `degrade-${audioMode}`;
      const inputs = [ssml(text), ssml(`${text} [[emulator:degrade]]`)].map((content) => ({ content }));
      const created = await client(emulator).put(id, {
        inputKind: "SSML",
        inputs,
        properties: { wordBoundaryEnabled: true },
      });
      expect(created.status).toBe(201);
      const job = await waitForTerminal(emulator, id);
      expect(job.status).toBe("Succeeded");
      const files = await unzip(await download(job.outputs?.result as string));
      const plain = decodeWav(files.get("0001.wav") as Buffer);
      const degraded = decodeWav(files.get("0002.wav") as Buffer);
      const ratio = degraded.durationMs / plain.durationMs;
      expect(ratio).toBeGreaterThan(1.2);
      expect(ratio).toBeLessThan(1.3);
      const words = (name: string) =>
        JSON.parse((files.get(name) as Buffer).toString("utf8")) as { Text: string; AudioOffset: number }[];
      const plainWords = words("0001.word.json");
      const degradedWords = words("0002.word.json");
      expect(degradedWords.map((w) => w.Text)).toEqual(plainWords.map((w) => w.Text));
      const last = (list: { AudioOffset: number }[]) => list[list.length - 1]?.AudioOffset ?? 0;
      expect(last(degradedWords) / last(plainWords)).toBeCloseTo(1.25, 1);

      const realtimePlain = await realtimeWav(ssml(text));
      const realtimeMarked = await realtimeWav(ssml(`${text} [[emulator:degrade]]`));
      expect(realtimeMarked.durationMs).toBe(realtimePlain.durationMs);
      expect(Math.abs(realtimePlain.durationMs - plain.durationMs) / plain.durationMs).toBeLessThan(0.02);
    });
  },
);
