import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import yazl from "yazl";
import { HttpRangeReader } from "../../src/speech/rangeReader.js";
import { openRangedResultsZip } from "../../src/speech/resultsZip.js";
import { waitFor } from "../../tools/shared/waitFor.js";

/** A zip whose central directory (~5,000 entries) is larger than the end read first. */
async function bigDirectoryZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (let i = 1; i <= 5000; i++) {
    zip.addBuffer(Buffer.from(`audio ${i}`), `${String(i).padStart(4, "0")}.mp3`, { compress: false });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe("HttpRangeReader", () => {
  it("reads a directory that starts before the cached end, whichever record straddles its start", async () => {
    const zip = await bigDirectoryZip();
    // Tails that end the cache at different points of the directory's records.
    for (const tailBytes of [100_000, 100_017, 100_031, 100_046, 100_059]) {
      const tailStart = zip.length - tailBytes;
      let requests = 0;
      const reader = new HttpRangeReader(
        async (start, end) => {
          requests++;
          return Readable.from([zip.subarray(start, end + 1)]);
        },
        zip.length,
        { start: tailStart, data: zip.subarray(tailStart) },
      );
      const results = await openRangedResultsZip(reader, zip.length, async () => {});
      try {
        expect(results.summary.inputs).toBe(5000);
        const entries = [];
        for await (const entry of results.entries()) entries.push(entry);
        expect(await readAll(await (entries[0] as (typeof entries)[number]).openAudio())).toBe("audio 1");
        expect(await readAll(await (entries[4999] as (typeof entries)[number]).openAudio())).toBe(
          "audio 5000",
        );
        // The directory's part before the tail in 64 KB windows, not a request per record.
        expect(requests).toBeLessThan(20);
      } finally {
        await results.close();
      }
    }
  });

  it("a stalled body fails the entry's stream, also before anyone listens to it, and never the process", async () => {
    const audio = Buffer.alloc(1_000_000, 7);
    const zip = new yazl.ZipFile();
    zip.addBuffer(audio, "0001.mp3", { compress: false });
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const tailStart = bytes.length - 200;
    const reader = new HttpRangeReader(
      // The entry's bytes after its first 64 KB window never come (its header and the directory do).
      async (start, end) =>
        start >= 65_536 && start < 500_000
          ? new Readable({ read() {} })
          : Readable.from([bytes.subarray(start, end + 1)]),
      bytes.length,
      { start: tailStart, data: bytes.subarray(tailStart) },
      50,
    );
    const results = await openRangedResultsZip(reader, bytes.length, async () => {});
    try {
      const entries = [];
      for await (const entry of results.entries()) entries.push(entry);
      const stream = await (entries[0] as NonNullable<(typeof entries)[number]>).openAudio();
      // Nobody reads or listens yet (an upload that has not started): the watchdog's error must not be
      // an unhandled 'error' event (it ended the bench's stack process), and the stream must carry it.
      await waitFor(() => (stream as Readable).errored !== null, { timeoutMs: 30_000, intervalMs: 10 });
      await expect(readAll(stream)).rejects.toThrow(/no data for 50 ms/);
    } finally {
      await results.close();
    }
  });
});
