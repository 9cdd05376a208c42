import { AzureKeyCredential } from "@azure/core-auth";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { afterAll, describe, expect, it } from "vitest";
import { BatchSynthesisClient, findOutputFormat, SynthesisConflictError } from "../../src/speech/index.js";
import { hasLibopus } from "../../tools/emulator/audio/render.js";
import { resolveConfig } from "../../tools/emulator/config.js";
import { ManualClock } from "../../tools/emulator/index.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client, PLAIN_TEXT_EXAMPLE, SSML_EXAMPLE, ssml } from "./helpers.js";

/** Where the emulator follows the documentation rather than what is convenient (issue 9, "Emulator realism"). */
const emulators: TestEmulator[] = [];
afterAll(async () => {
  await Promise.all(emulators.map((e) => e.stop()));
});
async function emulatorWith(options: Parameters<typeof startTestEmulator>[0] = {}) {
  const emulator = await startTestEmulator(options);
  emulators.push(emulator);
  return emulator;
}

function realtime(emulator: TestEmulator, format = "riff-24khz-16bit-mono-pcm") {
  return fetch(`${emulator.url}/cognitiveservices/v1`, {
    method: "POST",
    headers: {
      "Ocp-Apim-Subscription-Key": emulator.key,
      "Content-Type": "application/ssml+xml",
      "X-Microsoft-OutputFormat": format,
    },
    body: ssml("Hello."),
  });
}

describe("realtime has its own quota (S0: 200 transactions per second), apart from batch's 100 per 10 s", () => {
  it("defaults to 200 per second", () => {
    expect(resolveConfig({ env: {} }).realtimeRateLimit).toEqual({ requests: 200, windowMs: 1_000 });
    expect(resolveConfig({ env: { EMULATOR_REALTIME_RATE_LIMIT: "off" } }).realtimeRateLimit).toBe(false);
  });

  it("a throttled batch API leaves realtime free, and realtime throttles on its own", async () => {
    const clock = new ManualClock();
    const emulator = await emulatorWith({
      clock,
      rateLimit: { requests: 2, windowMs: 10_000 },
      realtimeRateLimit: { requests: 3, windowMs: 1_000 },
    });
    expect((await client(emulator).list()).status).toBe(200);
    expect((await client(emulator).list()).status).toBe(200);
    const batchThrottled = await client(emulator).list();
    expect(batchThrottled.status).toBe(429);
    await batchThrottled.arrayBuffer();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await realtime(emulator);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    clock.advance(1_000);
    expect((await realtime(emulator)).status).toBe(200);
    // Still throttled on batch: realtime traffic never used up (or freed) the batch window.
    expect((await client(emulator).list()).status).toBe(429);
  });
});

describe("Retry-After is optional (the docs never promise it)", () => {
  it("EMULATOR_RETRY_AFTER=off: 429s from the limiter and from faults carry no Retry-After", async () => {
    const emulator = await emulatorWith({ retryAfter: false, rateLimit: { requests: 1, windowMs: 60_000 } });
    expect((await client(emulator).list()).status).toBe(200);
    const limited = await client(emulator).list();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBeNull();
    const other = await emulatorWith({ retryAfter: false, rateLimit: false });
    await other.setFault({ status: 429, method: "GET", count: 1, retryAfterSeconds: 3 });
    const injected = await client(other).list();
    expect(injected.status).toBe(429);
    expect(injected.headers.get("retry-after")).toBeNull();
  });

  it("the client retries a 429 without Retry-After with its own backoff", async () => {
    const emulator = await emulatorWith({ retryAfter: false, rateLimit: false });
    const statuses: Array<{ status: number; retryAfter: string | undefined }> = [];
    const recorder: PipelinePolicy = {
      name: "recorder",
      async sendRequest(request, next) {
        const response = await next(request);
        statuses.push({ status: response.status, retryAfter: response.headers.get("retry-after") });
        return response;
      },
    };
    const batch = new BatchSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key), {
      retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 50 },
      additionalPolicies: [recorder],
    });
    await emulator.setFault({ status: 429, method: "GET", count: 2 });
    const page = await batch.listSyntheses().byPage().next();
    expect(page.done).toBe(false);
    expect(statuses).toEqual([
      { status: 429, retryAfter: undefined },
      { status: 429, retryAfter: undefined },
      { status: 200, retryAfter: undefined },
    ]);
  });
});

describe("description is not echoed (no documented response shows it)", () => {
  it("create, get and list answer without it; re-attach compares the echoed fields", async () => {
    const emulator = await emulatorWith({ rateLimit: false });
    const created = await client(emulator).put("described", SSML_EXAMPLE);
    expect(created.status).toBe(201);
    expect(await created.json()).not.toHaveProperty("description");
    expect(await (await client(emulator).get("described")).json()).not.toHaveProperty("description");
    const listed = (await (await client(emulator).list()).json()) as { value: object[] };
    for (const job of listed.value) expect(job).not.toHaveProperty("description");

    const batch = new BatchSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key));
    const request = { ...PLAIN_TEXT_EXAMPLE, inputKind: "PlainText" as const };
    const first = await batch.createSynthesis("reattach-1", request);
    expect((await batch.createSynthesis("reattach-1", structuredClone(request))).id).toBe(first.id);
    const otherVoice = { ...request, synthesisConfig: { voice: "en-GB-SoniaNeural" } };
    await expect(batch.createSynthesis("reattach-1", otherVoice)).rejects.toBeInstanceOf(
      SynthesisConflictError,
    );
    // The client sends the PUT first (a GET only when refused): the raw PUT, the first create and the identical
    // repeat count; the refused PUT with another voice does not.
    expect((await emulator.usage()).requests.create).toBe(3);
  });
});

describe("output formats: exactly the REST reference's list", () => {
  it("refuses riff-16khz-16bit-mono-pcm (not in the list) in batch and realtime, with a 400", async () => {
    expect(findOutputFormat("riff-16khz-16bit-mono-pcm")).toBeUndefined();
    expect(findOutputFormat("riff-24khz-16bit-mono-pcm")).toBeDefined();
    const emulator = await emulatorWith({ rateLimit: false });
    const created = await client(emulator).put("legacy-format", {
      ...SSML_EXAMPLE,
      properties: { outputFormat: "riff-16khz-16bit-mono-pcm" },
    });
    expect(created.status).toBe(400);
    const refused = await realtime(emulator, "riff-16khz-16bit-mono-pcm");
    expect(refused.status).toBe(400);
    await refused.arrayBuffer();
  });
});

describe("Ogg/WebM Opus on realtime", () => {
  it.skipIf(!hasLibopus())(
    "one request returns an Ogg stream; text that needs several requests is refused before any is sent",
    async () => {
      const emulator = await emulatorWith({ rateLimit: false });
      const { RealtimeSynthesisClient } = await import("../../src/speech/index.js");
      const rt = new RealtimeSynthesisClient(emulator.url, new AzureKeyCredential(emulator.key));
      const audio = await rt.synthesize(ssml("Hello in Opus."), "ogg-24khz-16bit-mono-opus");
      expect(audio.subarray(0, 4).toString("latin1")).toBe("OggS");
      const before = (await emulator.usage()).requests.realtime;
      await expect(
        rt.synthesizeLong(
          {
            text: "Long text. ".repeat(200),
            voice: "en-US-AvaMultilingualNeural",
            outputFormat: "ogg-24khz-16bit-mono-opus",
          },
          { maxCharactersPerRequest: 300 },
        ),
      ).rejects.toThrow(/can't be joined/);
      expect((await emulator.usage()).requests.realtime).toBe(before);
    },
  );
});
