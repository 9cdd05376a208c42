import { once } from "node:events";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import yazl from "yazl";
import { openResultsZip, removeTempDir } from "../../src/speech/resultsZip.js";

async function writeZip(files: Record<string, string | Buffer>): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), "tts-results-test-"));
  const path = join(dir, "results.zip");
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files))
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name);
  zip.end();
  const out = createWriteStream(path);
  zip.outputStream.pipe(out);
  await once(out, "close");
  return { dir, path };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe("openResultsZip", () => {
  it("places summary.json rows by the number in their file names, not by position", async () => {
    const { dir, path } = await writeZip({
      "summary.json": JSON.stringify({
        jobID: "shuffled",
        status: "Succeeded",
        results: [
          { status: "Succeeded", audioFileName: "0003.mp3", properties: { sizeInBytes: "3" } },
          { status: "Failed", properties: { error: { code: "InvalidInput", message: "bad" } } },
          { status: "Succeeded", audioFileName: "0001.mp3", properties: { sizeInBytes: "1" } },
          { status: "Succeeded", wordBoundaryFileName: "0004.word.json", audioFileName: "0004.mp3" },
        ],
      }),
      "0001.mp3": "A",
      "0003.mp3": "CCC",
      "0004.mp3": "DDDD",
    });
    const results = await openResultsZip(path, () => removeTempDir(dir));
    try {
      const seen: Array<[number, string, string | undefined]> = [];
      for await (const entry of results.entries()) {
        seen.push([entry.index, entry.status, entry.audioFileName]);
        if (entry.status === "Succeeded") {
          const expected: Record<number, string> = { 1: "A", 3: "CCC", 4: "DDDD" };
          expect((await readAll(await entry.openAudio())).toString()).toBe(expected[entry.index]);
        }
      }
      expect(seen).toEqual([
        [1, "Succeeded", "0001.mp3"],
        [2, "Failed", undefined],
        [3, "Succeeded", "0003.mp3"],
        [4, "Succeeded", "0004.mp3"],
      ]);
    } finally {
      await results.close();
    }
  });

  it("reads summary.json (string sizes, failed inputs), streams audio and word boundaries, and cleans up", async () => {
    const { dir, path } = await writeZip({
      "summary.json": JSON.stringify({
        jobID: "j1",
        status: "Succeeded",
        results: [
          {
            contents: ["one"],
            status: "Succeeded",
            audioFileName: "0001.mp3",
            properties: { sizeInBytes: "5", durationInMilliseconds: "2500" },
          },
          {
            contents: ["two"],
            status: "Failed",
            properties: { error: { code: "InvalidInput", message: "bad text" } },
          },
          {
            contents: ["three"],
            status: "Succeeded",
            audioFileName: "0003.mp3",
            properties: { sizeInBytes: "3" },
          },
        ],
      }),
      "0001.mp3": "AUDIO",
      "0001.word.json": JSON.stringify([{ Text: "one", AudioOffset: 50, Duration: 137 }]),
      "0001.debug.json": "{}",
      "0003.mp3": "ABC",
    });
    const results = await openResultsZip(path, () => removeTempDir(dir));
    expect(results.summary).toEqual({ jobId: "j1", status: "Succeeded", inputs: 3, succeeded: 2, failed: 1 });
    const entries = [];
    for await (const e of results.entries()) entries.push(e);
    expect(entries.map((e) => [e.index, e.status, e.audioFileName, e.sizeInBytes])).toEqual([
      [1, "Succeeded", "0001.mp3", 5],
      [2, "Failed", undefined, undefined],
      [3, "Succeeded", "0003.mp3", 3],
    ]);
    expect(entries[0]?.durationInMilliseconds).toBe(2500);
    expect(entries[1]?.error).toEqual({ code: "InvalidInput", message: "bad text" });
    expect((await readAll(await entries[0]!.openAudio())).toString()).toBe("AUDIO");
    expect((await readAll(await entries[2]!.openAudio())).toString()).toBe("ABC");
    await expect(entries[1]!.openAudio()).rejects.toThrow(/no audio/);
    expect(await entries[0]!.readWordBoundaries()).toEqual([{ text: "one", offsetMs: 50, durationMs: 137 }]);
    expect(await entries[2]!.readWordBoundaries()).toBeUndefined();
    await results.close();
    expect(existsSync(dir)).toBe(false);
  });

  it("falls back to the numbered audio files when summary.json is missing", async () => {
    const { dir, path } = await writeZip({ "0002.wav": "B", "0001.wav": "A", "0001.debug.json": "{}" });
    const results = await openResultsZip(path, () => removeTempDir(dir));
    const names = [];
    for await (const e of results.entries()) names.push(e.audioFileName);
    expect(names).toEqual(["0001.wav", "0002.wav"]);
    await results.close();
  });

  it("deletes the temp file when the zip is unreadable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tts-results-test-"));
    const path = join(dir, "results.zip");
    await import("node:fs/promises").then((fs) => fs.writeFile(path, "not a zip"));
    await expect(openResultsZip(path, () => removeTempDir(dir))).rejects.toThrow();
    expect(existsSync(dir)).toBe(false);
  });
});
