import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { API, client, PLAIN_TEXT_EXAMPLE, SSML_EXAMPLE, ssml, waitForTerminal } from "./helpers.js";

async function expectError(
  response: Response,
  status: number,
  code: string,
  message?: string | RegExp,
): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("x-ms-error-code")).toBe(code);
  expect(response.headers.get("apim-request-id")).toBeTruthy();
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  if (typeof message === "string") expect(body.error.message).toBe(message);
  else if (message) expect(body.error.message).toMatch(message);
}

describe("Speech emulator: documented errors", () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ maxInputs: 3, maxPayloadBytes: 4096 });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("400 for a body without inputs, with the documented message", async () => {
    await expectError(
      await client(emulator).put("no-inputs", { inputKind: "SSML" }),
      400,
      "BadRequest",
      "The inputs is required.",
    );
    await expectError(
      await client(emulator).put("empty-inputs", { inputKind: "SSML", inputs: [] }),
      400,
      "BadRequest",
      "The inputs is required.",
    );
  });

  it("400 for a bad inputKind, a PlainText job without voice, and a bad outputFormat", async () => {
    await expectError(
      await client(emulator).put("bad-kind", { ...PLAIN_TEXT_EXAMPLE, inputKind: "Markdown" }),
      400,
      "BadRequest",
      /inputKind/,
    );
    await expectError(
      await client(emulator).put("no-voice", { ...PLAIN_TEXT_EXAMPLE, synthesisConfig: {} }),
      400,
      "BadRequest",
      /voice/,
    );
    await expectError(
      await client(emulator).put("bad-format", {
        ...SSML_EXAMPLE,
        properties: { outputFormat: "riff-99khz-3bit-mono-pcm" },
      }),
      400,
      "BadRequest",
      /output format/,
    );
    // The service accepts the inputKind in any case (the C# sample sends "Ssml").
    expect((await client(emulator).put("kind-any-case", { ...SSML_EXAMPLE, inputKind: "Ssml" })).status).toBe(
      201,
    );
  });

  it("400 for too many inputs, a payload over the limit, and malformed JSON", async () => {
    const inputs = Array.from({ length: 4 }, () => ({ content: ssml("Hello.") }));
    await expectError(
      await client(emulator).put("too-many", { inputKind: "SSML", inputs }),
      400,
      "BadRequest",
      /exceeds the limit of 3/,
    );
    const big = { inputKind: "SSML", inputs: [{ content: ssml("word ".repeat(2000)) }] };
    await expectError(await client(emulator).put("too-big", big), 400, "BadRequest", /maximum allowed size/);
    await expectError(
      await client(emulator).put("bad-json", '{"inputKind": "SSML", '),
      400,
      "BadRequest",
      /JSON/,
    );
  });

  it("400 for an invalid id, a missing or unknown api-version", async () => {
    await expectError(await client(emulator).put("-bad-", SSML_EXAMPLE), 400, "BadRequest", /id/);
    await expectError(await client(emulator).put("ab", SSML_EXAMPLE), 400, "BadRequest", /id/);
    const noVersion = await client(emulator).raw("/texttospeech/batchsyntheses");
    await expectError(noVersion, 400, "BadRequest", /api-version/);
    const oldVersion = await client(emulator).raw("/texttospeech/batchsyntheses?api-version=2023-04-01");
    await expectError(oldVersion, 400, "BadRequest", /api-version/);
  });

  it("401 without a key or with a wrong key; any bearer token is accepted", async () => {
    const url = `${emulator.url}/texttospeech/batchsyntheses?${API}`;
    await expectError(await fetch(url), 401, "Unauthorized");
    await expectError(
      await fetch(url, { headers: { "Ocp-Apim-Subscription-Key": "wrong" } }),
      401,
      "Unauthorized",
    );
    expect((await fetch(url, { headers: { Authorization: "Bearer any.entra.token" } })).status).toBe(200);
    await expectError(await fetch(`${emulator.url}/emulator/usage`), 401, "Unauthorized");
  });

  it("404 for an unknown job or operation; DELETE answers 204 and the job is gone", async () => {
    await expectError(await client(emulator).get("unknown-job"), 404, "NotFound");
    await expectError(await client(emulator).del("unknown-job"), 404, "NotFound");
    await expectError(
      await client(emulator).raw(`/texttospeech/operations/unknown-op?${API}`),
      404,
      "NotFound",
    );
    expect((await client(emulator).put("to-delete", SSML_EXAMPLE)).status).toBe(201);
    const deleted = await client(emulator).del("to-delete");
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    expect((await client(emulator).get("to-delete")).status).toBe(404);
  });

  it("re-attaches an identical PUT without billing twice, and refuses a different request under the same id", async () => {
    const first = await client(emulator).put("reattach-job", SSML_EXAMPLE);
    expect(first.status).toBe(201);
    const operationId = first.headers.get("operation-id");
    await waitForTerminal(emulator, "reattach-job");
    const before = await emulator.usage();
    const again = await client(emulator).put("reattach-job", SSML_EXAMPLE);
    expect(again.status).toBe(201);
    expect(again.headers.get("operation-id")).toBe(operationId);
    expect(((await again.json()) as { status: string }).status).toBe("Succeeded");
    const after = await emulator.usage();
    expect(after.jobs).toBe(before.jobs);
    expect(after.billableCharacters).toBe(before.billableCharacters);
    expect(after.requests.create).toBe(before.requests.create + 1);

    const different = { ...SSML_EXAMPLE, inputs: [{ content: ssml("Something else.") }] };
    await expectError(
      await client(emulator).put("reattach-job", different),
      409,
      "BadRequest",
      /already exists/,
    );
  });

  it("honours the Operation-Id header and refuses its reuse for a different request", async () => {
    const created = await client(emulator).put("with-operation", SSML_EXAMPLE, {
      "Operation-Id": "my-operation-1",
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("operation-id")).toBe("my-operation-1");
    expect(created.headers.get("operation-location")).toContain(
      "/texttospeech/operations/my-operation-1?api-version=2024-04-01",
    );
    const operation = await client(emulator).raw(`/texttospeech/operations/my-operation-1?${API}`);
    expect(await operation.json()).toMatchObject({ id: "my-operation-1" });
    const reused = await client(emulator).put("other-job", SSML_EXAMPLE, {
      "Operation-Id": "my-operation-1",
    });
    await expectError(reused, 400, "BadRequest", /Operation-Id/);
  });
});

describe("Speech emulator: 204 for a missing job when configured", () => {
  it("answers GET and DELETE of an unknown id with 204", async () => {
    const emulator = await startTestEmulator({ missingJobStatus: 204 });
    try {
      expect((await client(emulator).get("unknown-job")).status).toBe(204);
      expect((await client(emulator).del("unknown-job")).status).toBe(204);
    } finally {
      await emulator.stop();
    }
  });
});
