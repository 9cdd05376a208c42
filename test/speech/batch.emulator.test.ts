import { AzureKeyCredential } from "@azure/core-auth";
import { createHttpHeaders, type PipelinePolicy } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureDurationMs } from "../../src/audio/index.js";
import {
  type BatchSynthesis,
  BatchSynthesisClient,
  type BatchSynthesisRequest,
  getOutputFormat,
  isSpeechServiceError,
  isTerminalStatus,
  SpeechServiceError,
  SynthesisConflictError,
} from "../../src/speech/index.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";

const VOICE = "en-US-AvaMultilingualNeural";
const MP3 = "audio-24khz-96kbitrate-mono-mp3";

/** Records when each attempt left the retry policy (the transport sees every retry). */
function attemptRecorder(): {
  policy: PipelinePolicy;
  attempts: Array<{ at: number; url: string; status?: number }>;
} {
  const attempts: Array<{ at: number; url: string; status?: number }> = [];
  return {
    attempts,
    policy: {
      name: "attemptRecorder",
      async sendRequest(request, next) {
        const entry: { at: number; url: string; status?: number } = { at: Date.now(), url: request.url };
        attempts.push(entry);
        const response = await next(request);
        entry.status = response.status;
        return response;
      },
    },
  };
}

function plainText(contents: string[], extra: Partial<BatchSynthesisRequest> = {}): BatchSynthesisRequest {
  return {
    inputKind: "PlainText",
    synthesisConfig: { voice: VOICE },
    inputs: contents.map((content) => ({ content })),
    properties: { outputFormat: MP3, wordBoundaryEnabled: true },
    ...extra,
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let emulator: TestEmulator;
let client: BatchSynthesisClient;
let recorder: ReturnType<typeof attemptRecorder>;
/** Added to the emulator's clock to move its time forward (result URL expiry) without waiting. */
let clockOffsetMs = 0;

async function finished(id: string): Promise<BatchSynthesis> {
  return waitFor(
    async () => {
      const job = await client.getSynthesis(id);
      return isTerminalStatus(job.status) ? job : undefined;
    },
    { intervalMs: 100, description: `job ${id} to finish` },
  );
}

beforeAll(async () => {
  emulator = await startTestEmulator({ rateLimit: false, clock: { now: () => Date.now() + clockOffsetMs } });
  recorder = attemptRecorder();
  client = new BatchSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key), {
    retryOptions: { retryDelayInMs: 20, maxRetryDelayInMs: 200 },
    additionalPolicies: [recorder.policy],
  });
});

afterAll(async () => {
  await emulator?.stop();
});

describe("BatchSynthesisClient against the emulator", () => {
  it("creates, polls, downloads and deletes a job (happy path)", async () => {
    const id = uniqueName("happy");
    const texts = [
      "The rainbow has seven colors.",
      'Tom & Jerry <3 "quotes" — café, 漢字.',
      "A third, longer input. ".repeat(10),
    ];
    const created = await client.createSynthesis(id, plainText(texts));
    expect(created.id).toBe(id);
    expect(["NotStarted", "Running"]).toContain(created.status);
    expect(created.operationId).toBeTruthy();

    const job = await finished(id);
    expect(job.status).toBe("Succeeded");
    expect(job.properties.succeededAudioCount).toBe(3);
    expect(job.properties.billingDetails?.totalCharacters).toBeGreaterThan(0);
    expect(job.lastActionDateTime).toMatch(/Z$/);
    expect(JSON.stringify(job)).not.toContain("sig=");

    const operation = await client.getOperation(created.operationId ?? "");
    expect(operation.status).toBe("Succeeded");

    const results = await client.openResults(job);
    try {
      expect(results.summary).toMatchObject({ inputs: 3, succeeded: 3, failed: 0 });
      const format = getOutputFormat(MP3);
      for await (const entry of results.entries()) {
        expect(entry.status).toBe("Succeeded");
        expect(entry.audioFileName).toBe(`000${entry.index}.mp3`);
        const audio = await readAll(await entry.openAudio());
        expect(audio.length).toBe(entry.sizeInBytes);
        const measured = measureDurationMs(audio, format);
        expect(Math.abs(measured - (entry.durationInMilliseconds ?? 0))).toBeLessThanOrEqual(
          0.2 * (entry.durationInMilliseconds ?? 0),
        );
        const words = await entry.readWordBoundaries();
        expect(words?.length).toBeGreaterThan(0);
        const last = words?.at(-1);
        expect((last?.offsetMs ?? 0) + (last?.durationMs ?? 0)).toBeLessThanOrEqual(measured * 1.2);
      }
    } finally {
      await results.close();
    }

    await client.deleteSynthesis(id);
    await client.deleteSynthesis(id); // already gone: fine
    const missing = await client.getSynthesis(id).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SpeechServiceError);
    expect(missing).toMatchObject({ statusCode: 404, code: "NotFound" });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["no inputs", { inputKind: "SSML" }, /^The inputs is required\.$/],
    ["PlainText without a voice", { inputKind: "PlainText", inputs: [{ content: "x" }] }, /voice/],
    [
      "an unsupported output format",
      {
        inputKind: "PlainText",
        synthesisConfig: { voice: VOICE },
        inputs: [{ content: "x" }],
        properties: { outputFormat: "mp3-please" },
      },
      /output format/i,
    ],
    ["a bad inputKind", { inputKind: "Markdown", inputs: [{ content: "x" }] }, /inputKind/],
    [
      "an unmapped custom voice id",
      {
        inputKind: "PlainText",
        synthesisConfig: { voice: VOICE },
        inputs: [{ content: "x" }],
        customVoices: { v: "-" },
      },
      /custom voice/i,
    ],
  ])("surfaces a 400 for %s as SpeechServiceError", async (_name, body, message) => {
    const error = await client
      .createSynthesis(uniqueName("bad"), body as unknown as BatchSynthesisRequest)
      .catch((e: unknown) => e);
    expect(isSpeechServiceError(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 400, code: expect.stringMatching(/^Bad(Request|Argument)$/) });
    expect((error as SpeechServiceError).message).toMatch(message);
    expect((error as SpeechServiceError).requestId).toBeTruthy();
  });

  it("surfaces the input-count and payload limits as 400s", async () => {
    const small = await startTestEmulator({ rateLimit: false, maxInputs: 3, maxPayloadBytes: 2_000 });
    try {
      const limited = new BatchSynthesisClient(small.url, new AzureKeyCredential(small.key));
      await expect(
        limited.createSynthesis(uniqueName("many"), plainText(["a", "b", "c", "d"])),
      ).rejects.toMatchObject({
        statusCode: 400,
        message: expect.stringMatching(/inputs/),
      });
      await expect(
        limited.createSynthesis(uniqueName("big"), plainText(["x".repeat(3_000)])),
      ).rejects.toMatchObject({
        statusCode: 400,
        message: expect.stringMatching(/payload|size/i),
      });
    } finally {
      await small.stop();
    }
  });

  it("treats 204 for a missing job (the docs' other answer) as not found", async () => {
    const docs204 = await startTestEmulator({ rateLimit: false, missingJobStatus: 204 });
    try {
      const other = new BatchSynthesisClient(docs204.url, new AzureKeyCredential(docs204.key));
      await expect(other.getSynthesis("never-created")).rejects.toMatchObject({
        statusCode: 404,
        code: "NotFound",
      });
      await expect(other.deleteSynthesis("never-created")).resolves.toBeUndefined();
      const created = await other.createSynthesis("created-after-204", plainText(["Hello."]));
      expect(created.id).toBe("created-after-204");
    } finally {
      await docs204.stop();
    }
  });

  it("surfaces 401 for a wrong key without echoing it", async () => {
    const wrong = new BatchSynthesisClient(emulator.url, new AzureKeyCredential("wrong-key-value-42"));
    const error = await wrong.getSynthesis("anything").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "SpeechServiceError", statusCode: 401, code: "Unauthorized" });
    expect(String((error as Error).message)).not.toContain("wrong-key-value-42");
    expect(JSON.stringify(error)).not.toContain("wrong-key-value-42");
  });

  it("honours Retry-After on 429, then succeeds", async () => {
    const id = uniqueName("throttle");
    await client.createSynthesis(id, plainText(["Throttled."]));
    await emulator.setFault({ status: 429, method: "GET", count: 2, retryAfterSeconds: 1 });
    const start = recorder.attempts.length;
    const job = await client.getSynthesis(id);
    expect(job.id).toBe(id);
    const tries = recorder.attempts.slice(start);
    expect(tries.map((t) => t.status)).toEqual([429, 429, 200]);
    // The waits honoured Retry-After: 1 s (a lower bound, so a slow machine cannot break it).
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect((tries[2]?.at ?? 0) - (tries[1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("retries a 500, then succeeds", async () => {
    const id = uniqueName("flaky");
    await client.createSynthesis(id, plainText(["Flaky."]));
    await emulator.setFault({ status: 500, method: "GET", count: 1 });
    const start = recorder.attempts.length;
    expect((await client.getSynthesis(id)).id).toBe(id);
    expect(recorder.attempts.slice(start).map((t) => t.status)).toEqual([500, 200]);
  });

  it("stops retrying at the bound and surfaces the last error", async () => {
    const bounded = new BatchSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key), {
      retryOptions: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 },
    });
    await emulator.setFault({ status: 503, method: "GET", count: 5 });
    try {
      await expect(bounded.getSynthesis("whatever")).rejects.toMatchObject({ statusCode: 503 });
    } finally {
      await emulator.clearFaults();
    }
  });

  it("reports a Failed job with its error", async () => {
    const id = uniqueName("failjob");
    await client.createSynthesis(id, plainText(["Fine.", "This one breaks the job [[emulator:fail-job]]."]));
    const job = await finished(id);
    expect(job.status).toBe("Failed");
    expect(job.properties.error?.message).toBeTruthy();
  });

  it("reports one failed input among many, in input order", async () => {
    const id = uniqueName("failinput");
    const texts = ["One.", "Two.", "Three [[emulator:fail-input]].", "Four.", "Five."];
    await client.createSynthesis(id, plainText(texts));
    const job = await finished(id);
    expect(job.properties.failedAudioCount).toBe(1);
    expect(job.properties.succeededAudioCount).toBe(4);
    const results = await client.openResults(id);
    try {
      const seen: Array<[number, string]> = [];
      for await (const entry of results.entries()) {
        seen.push([entry.index, entry.status]);
        if (entry.status === "Failed") {
          expect(entry.error?.message).toBeTruthy();
          await expect(entry.openAudio()).rejects.toThrow();
        } else {
          expect((await readAll(await entry.openAudio())).length).toBeGreaterThan(0);
        }
      }
      expect(seen).toEqual([
        [1, "Succeeded"],
        [2, "Succeeded"],
        [3, "Failed"],
        [4, "Succeeded"],
        [5, "Succeeded"],
      ]);
    } finally {
      await results.close();
    }
  });

  it("maps results by the number in audioFileName: summary.json is not in input order", async () => {
    const id = uniqueName("order");
    // Lengths that grow with the input number, so each audio's duration says which input it is.
    const texts = [1, 2, 3, 4, 5, 6].map((n) => `Input ${n}. ${"Words to make it longer. ".repeat(n * 3)}`);
    await client.createSynthesis(id, plainText(texts));
    const job = await finished(id);
    // The raw summary.json: its results are shuffled (CONTRACT §8).
    const zip = Buffer.from(await (await fetch(job.outputs?.result ?? "")).arrayBuffer());
    const names = [...zip.toString("latin1").matchAll(/"audioFileName": "(\d{4})\.mp3"/g)].map((m) => m[1]);
    expect(names).toHaveLength(6);
    expect(names).not.toEqual(["0001", "0002", "0003", "0004", "0005", "0006"]);

    const results = await client.openResults(job);
    try {
      const durations: number[] = [];
      for await (const entry of results.entries()) {
        expect(entry.audioFileName).toBe(`000${entry.index}.mp3`);
        const words = await entry.readWordBoundaries();
        expect(words?.[0]?.text).toBe("Input");
        expect(words?.[1]?.text).toBe(String(entry.index));
        durations.push(entry.durationInMilliseconds ?? 0);
      }
      expect(durations).toEqual([...durations].sort((a, b) => a - b));
    } finally {
      await results.close();
    }
  });

  it("lists across pages by following nextLink", async () => {
    const ids = await Promise.all(
      [1, 2, 3, 4, 5].map(async (n) => {
        const id = uniqueName(`page${n}`);
        await client.createSynthesis(id, plainText([`Page ${n}.`]));
        return id;
      }),
    );
    const pages: number[] = [];
    const listed = new Set<string>();
    for await (const page of client.listSyntheses({ maxPageSize: 2 }).byPage()) {
      pages.push(page.length);
      expect(page.length).toBeLessThanOrEqual(2);
      for (const job of page) listed.add(job.id);
    }
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const id of ids) expect(listed.has(id)).toBe(true);

    const flat = new Set<string>();
    for await (const job of client.listSyntheses({ maxPageSize: 2 })) flat.add(job.id);
    expect(flat).toEqual(listed);

    // byPage resumes from a continuation token (the nextLink).
    const firstPage = await client.listSyntheses({ maxPageSize: 2 }).byPage().next();
    const token = firstPage.value?.continuationToken;
    expect(token).toBeTruthy();
    const second = await client.listSyntheses().byPage({ continuationToken: token }).next();
    expect(second.value?.length).toBe(2);
  });

  it("creates with one PUT, re-attaches with one more (no read first); a different request is a conflict", async () => {
    for (const conflictStatus of [409, 400] as const) {
      const fresh = await startTestEmulator({ rateLimit: false, conflictStatus });
      try {
        const billing = new BatchSynthesisClient(fresh.url, new AzureKeyCredential(fresh.key));
        const id = uniqueName("again");
        const request = plainText(["Pay once.", "Only once."]);
        const first = await billing.createSynthesis(id, request);
        expect((await fresh.usage()).requests).toMatchObject({ create: 1, get: 0 });
        // A repeated submit (same id and body): the emulator answers the PUT with the same job.
        const second = await billing.createSynthesis(id, structuredClone(request));
        expect(second.id).toBe(first.id);
        expect(second.operationId).toBe(first.operationId);
        const usage = await fresh.usage();
        expect(usage.jobs).toBe(1);
        expect(usage.inputs).toBe(2);
        expect(usage.requests).toMatchObject({ create: 2, get: 0 });

        // A different request under the id: the service refuses the PUT (409, or 400 saying so), the client
        // reads the job once and compares. GET does not echo `description` (nor `inputs`), so only what it
        // echoes can tell two requests apart: here the output format.
        const conflict = await billing
          .createSynthesis(id, { ...request, properties: { outputFormat: "riff-24khz-16bit-mono-pcm" } })
          .catch((e: unknown) => e);
        expect(conflict).toBeInstanceOf(SynthesisConflictError);
        const after = await fresh.usage();
        expect(after.jobs).toBe(1);
        expect(after.inputs).toBe(2);
        // (The emulator counts the creates it answered: the refused PUT is not in `create`.)
        expect(after.requests).toMatchObject({ create: 2, get: 1 });
      } finally {
        await fresh.stop();
      }
    }
  });

  it("re-attaches when the service refuses every PUT on an existing id (Azure's answer is undocumented)", async () => {
    const fresh = await startTestEmulator({ rateLimit: false });
    try {
      // Answers a PUT on an id already created with 409, as a service that never repeats a create would.
      const created = new Set<string>();
      const refuseRepeats: PipelinePolicy = {
        name: "refuseRepeatedPuts",
        async sendRequest(request, next) {
          const path = new URL(request.url).pathname;
          if (request.method === "PUT" && created.has(path)) {
            return {
              request,
              status: 409,
              headers: createHttpHeaders({ "content-type": "application/json" }),
              bodyAsText: JSON.stringify({
                error: { code: "Conflict", message: `A batch synthesis with this id already exists.` },
              }),
            };
          }
          const response = await next(request);
          if (request.method === "PUT" && response.status === 201) created.add(path);
          return response;
        },
      };
      const billing = new BatchSynthesisClient(fresh.url, new AzureKeyCredential(fresh.key), {
        additionalPolicies: [refuseRepeats],
      });
      const id = uniqueName("refused");
      const request = plainText(["Pay once."]);
      const first = await billing.createSynthesis(id, request);
      const again = await billing.createSynthesis(id, structuredClone(request));
      expect(again.id).toBe(first.id);
      const usage = await fresh.usage();
      expect(usage.jobs).toBe(1);
      // The refused PUT never reached the emulator; the client read the job once to re-attach.
      expect(usage.requests).toMatchObject({ create: 1, get: 1 });
    } finally {
      await fresh.stop();
    }
  });

  it("fetches a fresh result URL when the one it holds has expired", async () => {
    const id = uniqueName("expired");
    await client.createSynthesis(id, plainText(["Expiring link."]));
    const job = await finished(id);
    const staleUrl = job.outputs?.result ?? "";
    expect(staleUrl).toContain("se=");
    // Move the emulator's clock past the URL's expiry (12 h of service time, scaled).
    const expiry = Date.parse(new URL(staleUrl).searchParams.get("se") ?? "");
    clockOffsetMs += Math.max(0, expiry - Date.now()) + 1_000;
    const stale = await fetch(staleUrl);
    expect(stale.status).toBe(403);
    await stale.arrayBuffer();

    const getsBefore = recorder.attempts.filter((a) => a.url.includes(`/batchsyntheses/${id}`)).length;
    const results = await client.openResults(job);
    try {
      expect(results.summary.succeeded).toBe(1);
    } finally {
      await results.close();
    }
    const getsAfter = recorder.attempts.filter((a) => a.url.includes(`/batchsyntheses/${id}`)).length;
    expect(getsAfter - getsBefore).toBe(1);

    // Given only the (stale) URL a poll saw, the client reads the job once for a fresh one, and says so.
    const fromUrl = await client.openResults(id, { resultUrl: staleUrl });
    try {
      expect(fromUrl.summary.succeeded).toBe(1);
      expect(fromUrl.jobReads).toBe(1);
    } finally {
      await fromUrl.close();
    }
  });

  it("downloads from the result URL a poll saw without reading the job again", async () => {
    const id = uniqueName("polled");
    await client.createSynthesis(id, plainText(["Straight to the download."]));
    const job = await finished(id);
    const resultUrl = job.outputs?.result ?? "";
    expect(resultUrl).toMatch(/^https?:/);
    const before = (await emulator.usage()).requests.get;
    const results = await client.openResults(id, { resultUrl });
    try {
      expect(results.summary).toMatchObject({ inputs: 1, succeeded: 1 });
      expect(results.jobReads).toBe(0);
    } finally {
      await results.close();
    }
    expect((await emulator.usage()).requests.get).toBe(before);
    // Without a URL the job is read first (the former behaviour, and the fallback).
    const byId = await client.openResults(id);
    await byId.close();
    expect(byId.jobReads).toBe(1);
    expect((await emulator.usage()).requests.get).toBe(before + 1);
  });
});
