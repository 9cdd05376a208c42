import yauzl from "yauzl";
import { waitFor } from "../../tools/shared/waitFor.js";
import type { TestEmulator } from "../support/emulator.js";

export const API = "api-version=2024-04-01";

/** The documented SSML create example (batch-synthesis-api.md §2, S1), verbatim. */
export const SSML_EXAMPLE = {
  description: "my ssml test",
  inputKind: "SSML",
  inputs: [
    {
      content:
        '<speak version="1.0" xml:lang="en-US"><voice name="en-US-JennyNeural">The rainbow has seven colors.</voice></speak>',
    },
  ],
  properties: {
    outputFormat: "riff-24khz-16bit-mono-pcm",
    wordBoundaryEnabled: false,
    sentenceBoundaryEnabled: false,
    concatenateResult: false,
    decompressOutputFiles: false,
  },
};

/** The documented PlainText create example (S5). */
export const PLAIN_TEXT_EXAMPLE = {
  inputKind: "PlainText",
  synthesisConfig: { voice: "en-US-JennyNeural" },
  inputs: [{ content: "The rainbow has seven colors." }],
};

export function ssml(text: string): string {
  return `<speak version="1.0" xml:lang="en-US"><voice name="en-US-JennyNeural">${text}</voice></speak>`;
}

/** Plain fetch against the emulator with the subscription key. */
export function client(emulator: TestEmulator) {
  const headers = (extra: Record<string, string> = {}) => ({
    "Ocp-Apim-Subscription-Key": emulator.key,
    ...extra,
  });
  return {
    put: (id: string, body: unknown, extra: Record<string, string> = {}) =>
      fetch(`${emulator.url}/texttospeech/batchsyntheses/${id}?${API}`, {
        method: "PUT",
        headers: headers({ "Content-Type": "application/json", ...extra }),
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    get: (id: string) =>
      fetch(`${emulator.url}/texttospeech/batchsyntheses/${id}?${API}`, { headers: headers() }),
    del: (id: string) =>
      fetch(`${emulator.url}/texttospeech/batchsyntheses/${id}?${API}`, {
        method: "DELETE",
        headers: headers(),
      }),
    list: (query = "") =>
      fetch(`${emulator.url}/texttospeech/batchsyntheses?${API}${query}`, { headers: headers() }),
    raw: (path: string, init: RequestInit = {}) =>
      fetch(`${emulator.url}${path}`, {
        ...init,
        headers: headers((init.headers ?? {}) as Record<string, string>),
      }),
  };
}

export type Job = {
  id: string;
  status: string;
  properties: Record<string, unknown> & {
    sizeInBytes?: number;
    durationInMilliseconds?: number;
    succeededAudioCount?: number;
    failedAudioCount?: number;
    billingDetails?: { neuralCharacters: number };
    error?: { code: string; message: string };
  };
  outputs?: { result: string; summary?: string };
};

export async function waitForTerminal(emulator: TestEmulator, id: string): Promise<Job> {
  const api = client(emulator);
  return waitFor(
    async () => {
      const response = await api.get(id);
      if (response.status !== 200) throw new Error(`GET ${id} -> ${response.status}`);
      const job = (await response.json()) as Job;
      return job.status === "Succeeded" || job.status === "Failed" ? job : undefined;
    },
    { timeoutMs: 60_000, description: `job ${id} to finish` },
  );
}

/** Reads every entry of a zip held in a buffer (test-sized zips only). */
export async function unzip(data: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(data, { lazyEntries: true }, (error, z) => (error ? reject(error) : resolve(z))),
  );
  const files = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      zip.openReadStream(entry, async (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        files.set(entry.fileName, Buffer.concat(chunks));
        zip.readEntry();
      });
    });
    zip.on("end", () => resolve());
    zip.on("error", reject);
    zip.readEntry();
  });
  return files;
}

/** Parses a RIFF/WAVE file (walking its chunks) and returns its format and duration. */
export function decodeWav(data: Buffer): {
  formatTag: number;
  sampleRate: number;
  bitsPerSample: number;
  durationMs: number;
} {
  if (data.toString("ascii", 0, 4) !== "RIFF" || data.toString("ascii", 8, 12) !== "WAVE")
    throw new Error("not RIFF/WAVE");
  let offset = 12;
  let fmt: { formatTag: number; sampleRate: number; bitsPerSample: number; byteRate: number } | undefined;
  while (offset + 8 <= data.length) {
    const id = data.toString("ascii", offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    if (id === "fmt ") {
      fmt = {
        formatTag: data.readUInt16LE(offset + 8),
        sampleRate: data.readUInt32LE(offset + 12),
        byteRate: data.readUInt32LE(offset + 16),
        bitsPerSample: data.readUInt16LE(offset + 22),
      };
    }
    if (id === "data") {
      if (!fmt) throw new Error("data before fmt");
      if (offset + 8 + size > data.length) throw new Error("truncated data chunk");
      return { ...fmt, durationMs: (size / fmt.byteRate) * 1000 };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error("no data chunk");
}

export async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`download -> ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}
