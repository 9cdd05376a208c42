import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AzureKeyCredential } from "@azure/core-auth";
import { afterEach, describe, expect, it } from "vitest";
import yazl from "yazl";
import { BatchSynthesisClient } from "../../src/speech/BatchSynthesisClient.js";

/**
 * openResults over a real HTTP server standing in for Blob storage: ranged reads when it answers 206, the
 * whole download when it ignores Range, and an error (never short audio) when a range comes back cut or wrong.
 */
const AUDIO = [Buffer.alloc(1_000_000, 1), Buffer.alloc(800_000, 2), Buffer.alloc(900_000, 3)];

async function buildZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  AUDIO.forEach((data, i) => {
    zip.addBuffer(data, `000${i + 1}.mp3`, { compress: false });
    zip.addBuffer(
      Buffer.from(JSON.stringify([{ Text: `w${i + 1}`, AudioOffset: 0, Duration: 100 }])),
      `000${i + 1}.word.json`,
    );
  });
  const results = AUDIO.map((_, i) => ({
    contents: ["a long text"],
    status: "Succeeded",
    audioFileName: `000${i + 1}.mp3`,
    properties: { sizeInBytes: String(AUDIO[i]?.length) },
  }));
  zip.addBuffer(
    Buffer.from(JSON.stringify({ jobID: "j", status: "Succeeded", results: results.reverse() })),
    "summary.json",
  );
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

type Mode = "ranges" | "ignore-range" | "cut-audio" | "wrong-range";
interface Seen {
  method: string;
  range?: string;
  bytes: number;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(zip: Buffer, mode: Mode): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const range = req.headers.range;
    const match = range ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if (req.method === "HEAD") {
      seen.push({ method: "HEAD", bytes: 0 });
      res.writeHead(200, { "content-length": zip.length, "accept-ranges": "bytes" });
      res.end();
      return;
    }
    if (!match || mode === "ignore-range") {
      seen.push({ method: "GET", ...(range ? { range } : {}), bytes: zip.length });
      res.writeHead(200, { "content-length": zip.length });
      res.end(zip);
      return;
    }
    const start = Number(match[1]);
    const end = Math.min(Number(match[2]), zip.length - 1);
    const body = zip.subarray(start, end + 1);
    const isAudio = body.length > 100_000 && start < zip.length / 2;
    const contentRange =
      mode === "wrong-range" && isAudio
        ? `bytes ${start + 1}-${end}/${zip.length}`
        : `bytes ${start}-${end}/${zip.length}`;
    res.writeHead(206, { "content-length": body.length, "content-range": contentRange });
    if (mode === "cut-audio" && isAudio) {
      // Half the promised bytes, then the connection drops.
      seen.push({ method: "GET", range, bytes: body.length / 2 });
      res.write(body.subarray(0, body.length / 2), () => res.destroy());
      return;
    }
    seen.push({ method: "GET", range, bytes: body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/out/j/results.zip?sv=1&sig=secret`, seen };
}

function client(): BatchSynthesisClient {
  return new BatchSynthesisClient("http://127.0.0.1:1", new AzureKeyCredential("k"), {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("openResults over HTTP ranges", () => {
  it("reads the end of the zip, then only the entries opened, each with its own range", async () => {
    const zip = await buildZip();
    const { url, seen } = await serve(zip, "ranges");
    const results = await client().openResults("j", { resultUrl: url });
    try {
      expect(results.summary).toMatchObject({ inputs: 3, succeeded: 3 });
      const entries = [];
      for await (const entry of results.entries()) entries.push(entry);
      const before = seen.length;
      const audio = await readAll(await (entries[1] as (typeof entries)[number]).openAudio());
      expect(audio.equals(AUDIO[1] as Buffer)).toBe(true);
      expect(await entries[1]?.readWordBoundaries()).toEqual([{ text: "w2", offsetMs: 0, durationMs: 100 }]);
      expect(seen.slice(0, 2).map((s) => s.method)).toEqual(["HEAD", "GET"]);
      expect(seen.every((s) => s.method === "HEAD" || s.range !== undefined)).toBe(true);
      // The one entry read cost little more than its own bytes: the others were never fetched.
      const entryBytes = seen.slice(before).reduce((sum, s) => sum + s.bytes, 0);
      expect(entryBytes).toBeLessThan((AUDIO[1]?.length ?? 0) + 70_000);
      expect(seen.reduce((sum, s) => sum + s.bytes, 0)).toBeLessThan(zip.length / 2);
    } finally {
      await results.close();
    }
  });

  it("downloads the whole zip once when the server ignores Range (200), and reads every entry from it", async () => {
    const zip = await buildZip();
    const { url, seen } = await serve(zip, "ignore-range");
    const results = await client().openResults("j", { resultUrl: url });
    try {
      const audio: Buffer[] = [];
      for await (const entry of results.entries()) audio.push(await readAll(await entry.openAudio()));
      expect(audio.map((a, i) => a.equals(AUDIO[i] as Buffer))).toEqual([true, true, true]);
      expect(seen.map((s) => s.method)).toEqual(["HEAD", "GET"]);
    } finally {
      await results.close();
    }
  });

  for (const mode of ["cut-audio", "wrong-range"] as const) {
    it(`fails the entry's stream, never yielding short audio, when its range comes back ${mode === "cut-audio" ? "cut" : "with another Content-Range"}`, async () => {
      const zip = await buildZip();
      const { url } = await serve(zip, mode);
      const results = await client().openResults("j", { resultUrl: url });
      try {
        const entries = [];
        for await (const entry of results.entries()) entries.push(entry);
        await expect(
          (async () => readAll(await (entries[0] as (typeof entries)[number]).openAudio()))(),
        ).rejects.toThrow();
      } finally {
        await results.close();
      }
    });
  }
});
