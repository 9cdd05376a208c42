import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ZipLayout, type ZipSource } from "../../tools/emulator/zipLayout.js";
import { unzip } from "./helpers.js";

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A file whose bytes come in small chunks, counting how often it is produced. */
function source(name: string, data: Buffer): ZipSource & { opened: number } {
  const file = {
    name,
    size: data.length,
    opened: 0,
    open() {
      file.opened++;
      const chunks: Buffer[] = [];
      for (let i = 0; i < data.length; i += 7) chunks.push(data.subarray(i, i + 7));
      return Readable.from(chunks);
    },
  };
  return file;
}

const files = () => [
  source("0001.mp3", Buffer.alloc(1000, 1)),
  source("0001.word.json", Buffer.from(JSON.stringify([{ Text: "one", AudioOffset: 50, Duration: 137 }]))),
  source("0002.mp3", Buffer.alloc(777, 2)),
  source("summary.json", Buffer.from('{"results":[]}')),
];

describe("ZipLayout", () => {
  for (const forceZip64 of [false, true]) {
    it(`is a zip yauzl reads entry for entry${forceZip64 ? " (ZIP64 records)" : ""}, and any range is that slice of the whole`, async () => {
      const sources = files();
      const layout = await ZipLayout.build(sources, new Date(2026, 0, 1), { forceZip64 });
      const whole = await readAll(layout.stream());
      expect(whole.length).toBe(layout.size);
      const entries = await unzip(whole);
      for (const file of sources)
        expect(entries.get(file.name)?.equals(await readAll(file.open()))).toBe(true);
      for (const [start, end] of [
        [0, 0],
        [5, 1100],
        [layout.size - 22, layout.size - 1],
        [1031, 1031],
      ] as const) {
        expect((await readAll(layout.stream(start, end))).equals(whole.subarray(start, end + 1))).toBe(true);
      }
    });
  }

  it("produces only the entries a range overlaps", async () => {
    const sources = files();
    const layout = await ZipLayout.build(sources, new Date(2026, 0, 1));
    for (const file of sources) file.opened = 0;
    await readAll(layout.stream(layout.size - 100, layout.size - 1));
    expect(sources.map((f) => f.opened)).toEqual([0, 0, 0, 0]);
    await readAll(layout.stream(40, 60));
    expect(sources.map((f) => f.opened)).toEqual([1, 0, 0, 0]);
  });
});
