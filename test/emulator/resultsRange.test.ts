import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client, download, ssml, waitForTerminal } from "./helpers.js";

/**
 * results.zip is a blob behind a SAS URL: Get Blob ranges as Blob storage reads them ("Specifying the range
 * header for Blob service operations", learn.microsoft.com/rest/api/storageservices/specifying-the-range-header-
 * for-blob-service-operations): `bytes=start-end` and `bytes=start-`, `x-ms-range` before `Range`, 206 with
 * Content-Range, 416 when the start is past the end. Every range is compared with the whole download.
 */
let emulator: TestEmulator;
let url: string;
let whole: Buffer;
let id: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const api = client(emulator);
  id = "range-job-1";
  const created = await api.put(id, {
    inputKind: "SSML",
    inputs: [1, 2, 3].map((n) => ({ content: ssml(`Chapter ${n}. ${"Words spoken here. ".repeat(40)}`) })),
    properties: { outputFormat: "audio-16khz-32kbitrate-mono-mp3", wordBoundaryEnabled: true },
  });
  expect(created.status).toBe(201);
  const job = await waitForTerminal(emulator, id);
  expect(job.status).toBe("Succeeded");
  url = job.outputs?.result as string;
  whole = await download(url);
});

afterAll(async () => {
  await emulator?.stop();
});

async function ranged(headers: Record<string, string>) {
  const response = await fetch(url, { headers });
  return { response, body: Buffer.from(await response.arrayBuffer()) };
}

describe("results.zip ranges", () => {
  it("answers start-end with exactly those bytes of the whole download (206, Content-Range)", async () => {
    expect(whole.length).toBeGreaterThan(1000);
    for (const [start, end] of [
      [0, 0],
      [0, 29],
      [17, 1033],
      [whole.length - 22, whole.length - 1],
    ] as const) {
      const { response, body } = await ranged({ Range: `bytes=${start}-${end}` });
      expect(response.status).toBe(206);
      expect(response.headers.get("content-range")).toBe(`bytes ${start}-${end}/${whole.length}`);
      expect(response.headers.get("content-length")).toBe(String(end - start + 1));
      expect(body.equals(whole.subarray(start, end + 1))).toBe(true);
    }
  });

  it("answers an open-ended range to the end, and cuts an end past the blob to its last byte", async () => {
    const start = whole.length - 100;
    const open = await ranged({ Range: `bytes=${start}-` });
    expect(open.response.status).toBe(206);
    expect(open.response.headers.get("content-range")).toBe(
      `bytes ${start}-${whole.length - 1}/${whole.length}`,
    );
    expect(open.body.equals(whole.subarray(start))).toBe(true);
    const past = await ranged({ Range: `bytes=${start}-${whole.length + 5000}` });
    expect(past.response.status).toBe(206);
    expect(past.body.equals(whole.subarray(start))).toBe(true);
  });

  it("reads x-ms-range before Range", async () => {
    const { response, body } = await ranged({ Range: "bytes=0-9", "x-ms-range": "bytes=10-19" });
    expect(response.status).toBe(206);
    expect(body.equals(whole.subarray(10, 20))).toBe(true);
  });

  it("answers a start past the end with 416 InvalidRange and the size in Content-Range", async () => {
    const { response, body } = await ranged({ Range: `bytes=${whole.length}-` });
    expect(response.status).toBe(416);
    expect(response.headers.get("x-ms-error-code")).toBe("InvalidRange");
    expect(response.headers.get("content-range")).toBe(`bytes */${whole.length}`);
    expect(body.toString()).toContain("<Code>InvalidRange</Code>");
  });

  it("serves forms Blob storage does not list (a suffix bytes=-N) as the whole blob, 200", async () => {
    const { response, body } = await ranged({ Range: "bytes=-100" });
    expect(response.status).toBe(200);
    expect(body.equals(whole)).toBe(true);
  });

  it("answers HEAD with the size, and logs every request with its range", async () => {
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(whole.length));
    expect(head.headers.get("accept-ranges")).toBe("bytes");
    const log = (await (await client(emulator).raw(`/emulator/downloads?id=${id}`)).json()) as {
      served: { method: string; status: number; start?: number; end?: number }[];
    };
    expect(log.served).toContainEqual(
      expect.objectContaining({ method: "GET", status: 206, start: 17, end: 1033 }),
    );
    expect(log.served).toContainEqual(expect.objectContaining({ method: "GET", status: 416 }));
    expect(log.served.at(-1)).toMatchObject({ method: "HEAD", status: 200, size: whole.length });
  });
});
