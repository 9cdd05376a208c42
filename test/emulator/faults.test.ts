import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { API, client, download, ssml, unzip, waitForTerminal } from "./helpers.js";

describe("Speech emulator: faults", () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("[[emulator:fail-input]] fails that input only: counts, summary entry and billing", async () => {
    const inputs = [
      ssml("First chapter."),
      ssml("Second [[emulator:fail-input]] chapter."),
      ssml("Third chapter."),
    ].map((content) => ({ content }));
    const created = await client(emulator).put("one-failed-input", {
      inputKind: "SSML",
      inputs,
      properties: { wordBoundaryEnabled: true },
    });
    expect(created.status).toBe(201);
    const job = await waitForTerminal(emulator, "one-failed-input");
    expect(job.status).toBe("Succeeded");
    expect(job.properties).toMatchObject({ succeededAudioCount: 2, failedAudioCount: 1 });
    const files = await unzip(await download(job.outputs?.result as string));
    expect(files.has("0001.wav") && files.has("0003.wav")).toBe(true);
    expect(files.has("0002.wav")).toBe(false);
    const summary = JSON.parse((files.get("summary.json") as Buffer).toString());
    // summary.json is not in input order (CONTRACT §8): entries are found by their file names.
    type Row = { status: string; audioFileName?: string; wordBoundaryFileName?: string; error?: unknown };
    const rows = summary.results as Row[];
    expect(rows.map((r) => r.audioFileName ?? r.status).sort()).toEqual(["0001.wav", "0003.wav", "Failed"]);
    expect(rows.find((r) => r.status === "Failed")?.error).toMatchObject({
      code: expect.any(String),
      message: expect.any(String),
    });
    expect(rows.find((r) => r.audioFileName === "0001.wav")?.wordBoundaryFileName).toBe("0001.word.json");
  });

  it("[[emulator:fail-job]] fails the whole job with properties.error", async () => {
    const inputs = [{ content: ssml("Fine.") }, { content: ssml("Doomed [[emulator:fail-job]].") }];
    expect((await client(emulator).put("failed-job", { inputKind: "SSML", inputs })).status).toBe(201);
    const job = await waitForTerminal(emulator, "failed-job");
    expect(job.status).toBe("Failed");
    expect(job.properties.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(job.properties.billingDetails?.neuralCharacters).toBe(0);
    expect(job.outputs).toBeUndefined();
  });

  it("[[emulator:fail-always]] fails in batch and realtime; fail-input succeeds in realtime", async () => {
    const realtime = (body: string) =>
      fetch(`${emulator.url}/cognitiveservices/v1`, {
        method: "POST",
        headers: {
          "Ocp-Apim-Subscription-Key": emulator.key,
          "Content-Type": "application/ssml+xml",
          "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
        },
        body,
      });
    const always = await realtime(ssml("Never [[emulator:fail-always]] works."));
    expect(always.status).toBe(400);
    await always.arrayBuffer();
    const inputOnly = await realtime(ssml("Works [[emulator:fail-input]] here."));
    expect(inputOnly.status).toBe(200);
    await inputOnly.arrayBuffer();
    const inputs = [{ content: ssml("Never [[emulator:fail-always]] works.") }];
    expect((await client(emulator).put("fail-always-job", { inputKind: "SSML", inputs })).status).toBe(201);
    const job = await waitForTerminal(emulator, "fail-always-job");
    expect(job.status).toBe("Failed");
    expect(job.properties.failedAudioCount).toBe(1);
  });

  it("POST /emulator/faults fails the next matching requests, then clears", async () => {
    expect(
      (await client(emulator).put("fault-target", { inputKind: "SSML", inputs: [{ content: ssml("Hi.") }] }))
        .status,
    ).toBe(201);
    await emulator.setFault({ status: 500, method: "GET", count: 2 });
    const first = await client(emulator).get("fault-target");
    expect(first.status).toBe(500);
    expect(first.headers.get("x-ms-error-code")).toBe("InternalServerError");
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe("InternalServerError");
    // A PUT is not a GET: unaffected.
    expect(
      (await client(emulator).put("fault-other", { inputKind: "SSML", inputs: [{ content: ssml("Hi.") }] }))
        .status,
    ).toBe(201);
    expect((await client(emulator).get("fault-target")).status).toBe(500);
    expect((await client(emulator).get("fault-target")).status).toBe(200);

    await emulator.setFault({ status: 429, count: 5, retryAfterSeconds: 2 });
    for (let i = 0; i < 5; i++) {
      const throttled = await client(emulator).get("fault-target");
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get("retry-after")).toBe("2");
      await throttled.arrayBuffer();
    }
    expect((await client(emulator).get("fault-target")).status).toBe(200);

    await emulator.setFault({ status: 503, path: "/operations/", count: 10 });
    expect((await client(emulator).get("fault-target")).status).toBe(200);
    expect((await client(emulator).raw(`/texttospeech/operations/whatever?${API}`)).status).toBe(503);
    await emulator.clearFaults();
    expect((await client(emulator).raw(`/texttospeech/operations/whatever?${API}`)).status).toBe(404);
  });

  it("refuses a malformed fault", async () => {
    const response = await client(emulator).raw("/emulator/faults", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: 200 }),
    });
    expect(response.status).toBe(400);
  });
});
