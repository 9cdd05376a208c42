import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import {
  client,
  decodeWav,
  download,
  type Job,
  PLAIN_TEXT_EXAMPLE,
  SSML_EXAMPLE,
  unzip,
  waitForTerminal,
} from "./helpers.js";

describe("Speech emulator: the documented examples", () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    // Real speech where the machine can make it, like `npm run emulator`.
    emulator = await startTestEmulator({ audioMode: "speech" });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("creates the SSML example: 201 with Operation-Id, Operation-Location and the echoed properties", async () => {
    const response = await client(emulator).put("my-ssml-job-1", SSML_EXAMPLE);
    expect(response.status).toBe(201);
    const operationId = response.headers.get("operation-id");
    expect(operationId).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,62}[a-zA-Z0-9]$/);
    expect(response.headers.get("operation-location")).toBe(
      `${emulator.url}/texttospeech/operations/${operationId}?api-version=2024-04-01`,
    );
    expect(response.headers.get("apim-request-id")).toBeTruthy();
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: "my-ssml-job-1",
      status: "NotStarted",
      inputKind: "SSML",
      customVoices: {},
      properties: {
        timeToLiveInHours: 744,
        outputFormat: "riff-24khz-16bit-mono-pcm",
        concatenateResult: false,
        decompressOutputFiles: false,
        wordBoundaryEnabled: false,
        sentenceBoundaryEnabled: false,
      },
    });
    expect(body.createdDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(body).not.toHaveProperty("inputs");
    const operation = await client(emulator).raw(
      `/texttospeech/operations/${operationId}?api-version=2024-04-01`,
    );
    expect(operation.status).toBe(200);
    expect(await operation.json()).toMatchObject({ id: operationId });
  });

  it("reaches Succeeded with the documented result fields, and results.zip holds 0001.wav and summary.json", async () => {
    const job = await waitForTerminal(emulator, "my-ssml-job-1");
    expect(job.status).toBe("Succeeded");
    expect(job.properties).toMatchObject({
      succeededAudioCount: 1,
      failedAudioCount: 0,
      billingDetails: { neuralCharacters: 29 },
    });
    expect(job.properties.sizeInBytes).toBeGreaterThan(0);
    expect(job.outputs?.result).toMatch(/results\.zip\?.*se=.*sig=/);
    const files = await unzip(await download(job.outputs?.result as string));
    expect([...files.keys()].sort()).toEqual(["0001.debug.json", "0001.wav", "summary.json"]);
    const summary = JSON.parse((files.get("summary.json") as Buffer).toString("utf8"));
    expect(summary).toEqual({
      jobID: "my-ssml-job-1",
      status: "Succeeded",
      results: [
        {
          contents: [SSML_EXAMPLE.inputs[0]?.content],
          status: "Succeeded",
          audioFileName: "0001.wav",
          properties: {
            sizeInBytes: expect.stringMatching(/^\d+$/),
            durationInMilliseconds: expect.stringMatching(/^\d+$/),
          },
        },
      ],
    });
    const wav = decodeWav(files.get("0001.wav") as Buffer);
    expect(wav).toMatchObject({ formatTag: 1, sampleRate: 24000, bitsPerSample: 16 });
    const reported = job.properties.durationInMilliseconds as number;
    expect(Math.abs(wav.durationMs - reported)).toBeLessThanOrEqual(reported * 0.2);
    expect(Number(summary.results[0].properties.sizeInBytes)).toBe((files.get("0001.wav") as Buffer).length);
    // ~150 words a minute: six words take roughly 2–3 seconds.
    expect(reported).toBeGreaterThan(1200);
    expect(reported).toBeLessThan(4500);
  });

  it("answers the PlainText example with synthesisConfig echoed", async () => {
    const response = await client(emulator).put("my-batch-synthesis-job-text-input-1", PLAIN_TEXT_EXAMPLE);
    expect(response.status).toBe(201);
    const body = (await response.json()) as Job & { synthesisConfig: unknown };
    expect(body.synthesisConfig).toEqual({ voice: "en-US-JennyNeural" });
    expect(body.status).toBe("NotStarted");
    const job = await waitForTerminal(emulator, "my-batch-synthesis-job-text-input-1");
    expect(job.status).toBe("Succeeded");
  });

  it('answers {"inputKind":"SSML"} with 400 "The inputs is required."', async () => {
    const response = await client(emulator).put("my-job-no-inputs", { inputKind: "SSML" });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-ms-error-code")).toBe("BadRequest");
    expect(await response.json()).toMatchObject({
      error: { code: "BadRequest", message: "The inputs is required." },
    });
  });
});
