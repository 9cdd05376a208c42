import { Readable } from "node:stream";
import { AzureKeyCredential, isTokenCredential, type TokenCredential } from "@azure/core-auth";
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
  RestError,
} from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import yazl from "yazl";
import { getOutputFormat } from "../../src/speech/formats.js";
import {
  BatchSynthesisClient,
  COGNITIVE_SERVICES_SCOPE,
  createSpeechClients,
  createSpeechError,
  isSpeechServiceError,
  isValidSynthesisId,
  jobNumberOfSynthesisId,
  makeSynthesisId,
  realtimeEndpointOf,
  requestFingerprint,
  SpeechServiceError,
  SYNTHESIS_ID_PATTERN,
  sanitizeMessage,
  sanitizeUrl,
  speechCredentialOf,
  speechRetryStrategy,
  toBatchSynthesis,
} from "../../src/speech/index.js";

const KEY = "super-secret-key-123";

describe("makeSynthesisId", () => {
  it("is deterministic and valid for ordinary parts", () => {
    const parts = { projectId: "lotm-book1", runId: "20261125T1200", jobNumber: 3, attempt: 1 };
    const id = makeSynthesisId(parts);
    expect(id).toBe(makeSynthesisId({ ...parts }));
    expect(id).toMatch(SYNTHESIS_ID_PATTERN);
    expect(id).toMatch(/^lotm-book1-20261125T1200-[0-9a-f]{10}-j3-a1$/);
  });

  it("stays valid and distinct for long, odd or ambiguous parts", () => {
    const seen = new Set<string>();
    const cases = [
      { projectId: "a".repeat(63), runId: "r".repeat(200), jobNumber: 999999, attempt: 99 },
      { projectId: "a".repeat(63), runId: "r".repeat(201), jobNumber: 999999, attempt: 99 },
      { projectId: "-weird_", runId: "ünïcödé run/with spaces", jobNumber: 0, attempt: 0 },
      { projectId: "a-b", runId: "c", jobNumber: 1, attempt: 1 },
      { projectId: "a", runId: "b-c", jobNumber: 1, attempt: 1 },
      { projectId: "", runId: "", jobNumber: 1, attempt: 1 },
      { projectId: "...", runId: "___", jobNumber: 12, attempt: 2 },
    ];
    for (const c of cases) {
      const id = makeSynthesisId(c);
      expect(isValidSynthesisId(id), id).toBe(true);
      expect(id.length).toBeLessThanOrEqual(64);
      seen.add(id);
    }
    expect(seen.size).toBe(cases.length);
    expect(() => makeSynthesisId({ projectId: "p", runId: "r", jobNumber: -1, attempt: 0 })).toThrow(
      RangeError,
    );
  });

  it("reads the job number back from an id it made, and from no other", () => {
    for (const jobNumber of [1, 12, 1432]) {
      const id = makeSynthesisId({ projectId: "book-j9-a9", runId: "r-j7-a7", jobNumber, attempt: 3 });
      expect(jobNumberOfSynthesisId(id)).toBe(jobNumber);
    }
    expect(jobNumberOfSynthesisId("someone-elses-job")).toBeUndefined();
  });
});

describe("sanitizing", () => {
  it("redacts SAS signatures and unknown query values from URLs", () => {
    const url =
      "https://acct.blob.core.windows.net/c/results.zip?sv=2022-11-02&se=2026-01-01&sr=b&sp=r&sig=abc%2Bdef%3D&skoid=x";
    const clean = sanitizeUrl(url);
    expect(clean).not.toContain("abc");
    expect(clean).toContain("sig=REDACTED");
    expect(clean).toContain("skoid=REDACTED");
    expect(clean).toContain("sv=2022-11-02");
  });

  it("removes URLs' secrets, bearer tokens and known secrets from messages", () => {
    const text = `failed GET https://x.blob.core.windows.net/a?sig=SECRETSIG&sv=1 with Bearer eyJhbGciOi.abc.def and key ${KEY}`;
    const clean = sanitizeMessage(text, [KEY]);
    expect(clean).not.toMatch(/SECRETSIG|eyJhbGciOi|super-secret/);
  });

  it("removes account and subscription keys and aad# tokens from messages (the log lines' one redaction)", () => {
    const text =
      "Invalid connection string DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vACCOUNTKEY==; " +
      "Ocp-Apim-Subscription-Key: SUBKEY0123; Authorization: Bearer aad#/subscriptions/s/accounts/a#eyJTOKEN";
    const clean = sanitizeMessage(text);
    expect(clean).not.toMatch(/ACCOUNTKEY|SUBKEY0123|eyJTOKEN/);
    expect(clean).toContain("AccountName=a");
  });
});

function fakeResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  request?: PipelineRequest,
): PipelineResponse {
  return {
    status,
    headers: createHttpHeaders(headers),
    bodyAsText: typeof body === "string" ? body : JSON.stringify(body),
    request: request as PipelineRequest,
  };
}

describe("createSpeechError", () => {
  it("carries the service code, message, request id and inner code", () => {
    const error = createSpeechError(
      fakeResponse(
        400,
        {
          error: {
            code: "BadRequest",
            message: "The inputs is required.",
            innererror: { code: "InvalidInputs" },
          },
        },
        {
          "x-ms-error-code": "BadRequest",
          "apim-request-id": "req-1",
        },
      ),
      JSON.stringify({
        error: {
          code: "BadRequest",
          message: "The inputs is required.",
          innererror: { code: "InvalidInputs" },
        },
      }),
    );
    expect(error).toBeInstanceOf(SpeechServiceError);
    expect(error).toBeInstanceOf(RestError);
    expect(isSpeechServiceError(error)).toBe(true);
    expect(error).toMatchObject({
      name: "SpeechServiceError",
      code: "BadRequest",
      statusCode: 400,
      message: "The inputs is required.",
      requestId: "req-1",
      innerErrorCode: "InvalidInputs",
    });
  });

  it("reads flat and problem-details bodies, and plain text, and never echoes secrets", () => {
    const flat = createSpeechError(
      fakeResponse(403, ""),
      JSON.stringify({ code: "Forbidden", message: "Only Standard" }),
    );
    expect(flat).toMatchObject({ code: "Forbidden", message: "Only Standard" });
    const problem = createSpeechError(
      fakeResponse(400, ""),
      JSON.stringify({
        title: "One or more validation errors occurred.",
        errors: { "Properties.X": ["bad"] },
        status: 400,
      }),
    );
    expect(problem.message).toContain("Properties.X: bad");
    const echoed = createSpeechError(
      fakeResponse(401, "", { "x-ms-request-id": "r2" }),
      `Access denied for key ${KEY} to https://h/x?sig=abc`,
      [KEY],
    );
    expect(echoed.message).not.toContain(KEY);
    expect(echoed.message).not.toContain("sig=abc");
    expect(echoed).toMatchObject({ code: "Unauthorized", requestId: "r2" });
    expect(JSON.stringify(echoed)).not.toContain(KEY);
  });
});

describe("storage errors", () => {
  it("reads Azure Storage XML errors (expired SAS) without the signature", () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.\nRequestId:1 sig=abc</Message></Error>`;
    const error = createSpeechError(fakeResponse(403, xml, { "x-ms-request-id": "blob-req" }), xml);
    expect(error).toMatchObject({ code: "AuthenticationFailed", statusCode: 403, requestId: "blob-req" });
    expect(error.message).toBe("Server failed to authenticate the request.");
  });
});

describe("response models", () => {
  it("parses the documented Succeeded example tolerantly", () => {
    const job = toBatchSynthesis({
      id: "YourSynthesisId",
      status: "Succeeded",
      createdDateTime: "2024-03-12T07:23:18.0097387Z",
      lastActionDateTime: "2024-03-12T07:23:18.7979669",
      inputKind: "SSML",
      customVoices: {},
      properties: {
        timeToLiveInHours: 168,
        outputFormat: "riff-24khz-16bit-mono-pcm",
        sizeInBytes: "120000",
        succeededAudioCount: 1,
        failedAudioCount: 0,
        durationInMilliseconds: 2500,
        billingDetails: { neuralCharacters: 29 },
      },
      outputs: { result: "https://x/results.zip?sig=S" },
      somethingNew: true,
    });
    expect(job.lastActionDateTime).toBe("2024-03-12T07:23:18.7979669Z");
    expect(job.properties.sizeInBytes).toBe(120000);
    expect(job.properties.billingDetails).toEqual({ neuralCharacters: 29, totalCharacters: 29 });
    expect(job.outputs?.result).toContain("results.zip");
    expect(JSON.stringify(job)).not.toContain("sig=S"); // SAS URL is not serialized
  });

  it("accepts the spec examples' short billing keys and keeps unknown statuses", () => {
    const job = toBatchSynthesis({
      id: "a1b",
      status: "Paused",
      properties: { billingDetails: { neural: 29, customNeural: 3 } },
    });
    expect(job.status).toBe("Paused");
    expect(job.properties.billingDetails).toEqual({
      neuralCharacters: 29,
      customNeuralCharacters: 3,
      totalCharacters: 32,
    });
  });
});

describe("speechRetryStrategy", () => {
  const response = (status: number, headers: Record<string, string> = {}) =>
    fakeResponse(status, "", headers, { url: "u" } as PipelineRequest);

  it("honours Retry-After on 429 and 503, and backs off with jitter on 5xx and 429 without it", () => {
    const strategy = speechRetryStrategy({ retryDelayInMs: 1000, maxRetryDelayInMs: 8000 });
    expect(strategy.retry({ retryCount: 0, response: response(429, { "retry-after": "3" }) })).toEqual({
      retryAfterInMs: 3000,
    });
    expect(strategy.retry({ retryCount: 0, response: response(503, { "retry-after-ms": "250" }) })).toEqual({
      retryAfterInMs: 250,
    });
    for (const status of [429, 500, 502, 503, 504, 408]) {
      const { retryAfterInMs } = strategy.retry({ retryCount: 2, response: response(status) });
      expect(retryAfterInMs).toBeGreaterThanOrEqual(2000);
      expect(retryAfterInMs).toBeLessThanOrEqual(4000);
    }
    expect(strategy.retry({ retryCount: 10, response: response(500) }).retryAfterInMs).toBeLessThanOrEqual(
      8000,
    );
  });

  it("does not retry client errors, 501 or 505", () => {
    const strategy = speechRetryStrategy();
    for (const status of [200, 400, 401, 403, 404, 409, 501, 505]) {
      expect(strategy.retry({ retryCount: 0, response: response(status) })).toEqual({ skipStrategy: true });
    }
  });

  it("retries network errors and stops once the total time would pass the bound", () => {
    let now = 0;
    const strategy = speechRetryStrategy({ maxRetryTimeInMs: 10_000, retryDelayInMs: 100 }, () => now);
    const request = { url: "u" } as PipelineRequest;
    const networkError = new RestError("socket hang up", { code: "ECONNRESET", request });
    expect(strategy.retry({ retryCount: 0, responseError: networkError }).retryAfterInMs).toBeGreaterThan(0);
    const throttled = fakeResponse(429, "", { "retry-after": "5" }, request);
    now = 4_000;
    expect(strategy.retry({ retryCount: 1, response: throttled })).toEqual({ retryAfterInMs: 5000 });
    now = 6_000;
    expect(strategy.retry({ retryCount: 2, response: throttled })).toEqual({ skipStrategy: true });
  });
});

/** A transport that answers from a script and records what it was sent. */
function scriptedHttpClient(
  script: Array<(req: PipelineRequest) => Partial<PipelineResponse> & { status: number }>,
) {
  const sent: PipelineRequest[] = [];
  const client: HttpClient = {
    async sendRequest(request) {
      sent.push(request);
      const step = script[Math.min(sent.length - 1, script.length - 1)];
      if (!step) throw new Error("no script");
      const r = step(request);
      return { headers: createHttpHeaders(), request, ...r };
    },
  };
  return { client, sent };
}

describe("BatchSynthesisClient over a scripted transport", () => {
  const job = { id: "job-1", status: "NotStarted", properties: {} };

  it("sends the key in Ocp-Apim-Subscription-Key, api-version, and retries a 500 then succeeds", async () => {
    const { client, sent } = scriptedHttpClient([
      () => ({
        status: 500,
        bodyAsText: JSON.stringify({ error: { code: "InternalServerError", message: "boom" } }),
      }),
      () => ({ status: 200, bodyAsText: JSON.stringify(job) }),
    ]);
    const batch = new BatchSynthesisClient(
      "https://eastus.api.cognitive.microsoft.com/",
      new AzureKeyCredential(KEY),
      {
        httpClient: client,
        retryOptions: { retryDelayInMs: 1, maxRetryDelayInMs: 2 },
      },
    );
    const got = await batch.getSynthesis("job-1");
    expect(got.id).toBe("job-1");
    expect(sent).toHaveLength(2);
    expect(sent[0]?.url).toBe(
      "https://eastus.api.cognitive.microsoft.com/texttospeech/batchsyntheses/job-1?api-version=2024-04-01",
    );
    expect(sent[0]?.headers.get("Ocp-Apim-Subscription-Key")).toBe(KEY);
  });

  it("gives up after maxRetries and surfaces the last error with its code", async () => {
    const { client, sent } = scriptedHttpClient([
      () => ({
        status: 503,
        headers: createHttpHeaders({ "x-ms-error-code": "ServiceUnavailable" }),
        bodyAsText: "",
      }),
    ]);
    const batch = new BatchSynthesisClient("https://h.example", new AzureKeyCredential(KEY), {
      httpClient: client,
      retryOptions: { maxRetries: 2, retryDelayInMs: 1, maxRetryDelayInMs: 2 },
    });
    await expect(batch.getSynthesis("job-1")).rejects.toMatchObject({
      code: "ServiceUnavailable",
      statusCode: 503,
    });
    expect(sent).toHaveLength(3);
  });

  it("retries network errors, then surfaces them without the request (URL, key header)", async () => {
    const sent: PipelineRequest[] = [];
    const client: HttpClient = {
      async sendRequest(request) {
        sent.push(request);
        throw new RestError(`connect ECONNREFUSED for ${request.url}`, { code: "ECONNREFUSED", request });
      },
    };
    const batch = new BatchSynthesisClient("https://h.example", new AzureKeyCredential(KEY), {
      httpClient: client,
      retryOptions: { maxRetries: 1, retryDelayInMs: 1, maxRetryDelayInMs: 2 },
    });
    const error = await batch.getSynthesis("job-1").catch((e: unknown) => e);
    expect(sent).toHaveLength(2);
    expect(error).toMatchObject({ name: "SpeechServiceError", code: "ECONNREFUSED" });
    expect((error as RestError).request).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain(KEY);
  });

  it("validates ids client-side with a TypeError", async () => {
    const batch = new BatchSynthesisClient("https://h.example", new AzureKeyCredential(KEY));
    await expect(batch.getSynthesis("-bad")).rejects.toThrow(TypeError);
  });

  it("fingerprints requests independently of key order and description", () => {
    const a = requestFingerprint({
      inputKind: "PlainText",
      inputs: [{ content: "x" }],
      synthesisConfig: { voice: "v" },
    });
    const b = requestFingerprint({
      synthesisConfig: { voice: "v" },
      inputs: [{ content: "x" }],
      inputKind: "PlainText",
      description: "d",
    });
    const c = requestFingerprint({
      inputKind: "PlainText",
      inputs: [{ content: "y" }],
      synthesisConfig: { voice: "v" },
    });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe("openResults over a scripted transport", () => {
  async function zipOf(files: Record<string, string>): Promise<Buffer> {
    const zip = new yazl.ZipFile();
    for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), name);
    zip.end();
    const chunks: Buffer[] = [];
    for await (const c of zip.outputStream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it("falls back to the whole download when the ranged read gets 200, starts it over when the body breaks, and never sends the key to storage", async () => {
    const zip = await zipOf({
      "0001.wav": "RIFF",
      "summary.json": JSON.stringify({ results: [{ status: "Succeeded", audioFileName: "0001.wav" }] }),
    });
    const broken = new Readable({
      read() {
        this.push(zip.subarray(0, 10));
        this.destroy(new Error("aborted"));
      },
    });
    const { client, sent } = scriptedHttpClient([
      () => ({ status: 200, headers: createHttpHeaders({ "content-length": String(zip.length) }) }),
      // A server that ignores Range: the whole blob, and this body breaks.
      () => ({ status: 200, readableStreamBody: broken }),
      () => ({ status: 200, readableStreamBody: Readable.from([zip]) }),
    ]);
    const batch = new BatchSynthesisClient("https://h.example", new AzureKeyCredential(KEY), {
      httpClient: client,
    });
    const job = toBatchSynthesis({
      id: "job-1",
      status: "Succeeded",
      outputs: { result: "https://store.example/results.zip?sig=S" },
    });
    const results = await batch.openResults(job);
    expect(results.summary.inputs).toBe(1);
    await results.close();
    expect(sent.map((r) => [r.method, r.headers.get("range")])).toEqual([
      ["HEAD", undefined],
      ["GET", `bytes=0-${zip.length - 1}`],
      ["GET", undefined],
    ]);
    for (const request of sent) expect(request.headers.get("Ocp-Apim-Subscription-Key")).toBeUndefined();
  });
});

describe("Microsoft Entra ID and createSpeechClients", () => {
  it("sends a bearer token for the Cognitive Services scope, and none to storage", async () => {
    const scopes: string[][] = [];
    const credential: TokenCredential = {
      async getToken(requested) {
        scopes.push([requested].flat());
        return { token: "entra-token", expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const { client, sent } = scriptedHttpClient([
      () => ({ status: 200, bodyAsText: JSON.stringify({ id: "job-1", status: "Running", properties: {} }) }),
    ]);
    const batch = new BatchSynthesisClient("https://my-speech.cognitiveservices.azure.com", credential, {
      httpClient: client,
    });
    await batch.getSynthesis("job-1");
    expect(sent[0]?.headers.get("Authorization")).toBe("Bearer entra-token");
    expect(sent[0]?.headers.get("Ocp-Apim-Subscription-Key")).toBeUndefined();
    expect(scopes[0]).toEqual([COGNITIVE_SERVICES_SCOPE]);
  });

  it("derives endpoints and the credential from settings", () => {
    const keyed = createSpeechClients({ SPEECH_REGION: "westeurope", SPEECH_KEY: KEY });
    expect(keyed.batch.endpoint).toBe("https://westeurope.api.cognitive.microsoft.com");
    expect(keyed.realtime.endpoint).toBe("https://westeurope.tts.speech.microsoft.com");
    expect(speechCredentialOf({ SPEECH_KEY: KEY })).toHaveProperty("key", KEY);

    const entra = {
      SPEECH_ENDPOINT: "https://my-speech.cognitiveservices.azure.com/",
      SPEECH_REALTIME_ENDPOINT: "https://rt.example",
    };
    const clients = createSpeechClients(entra);
    expect(clients.batch.endpoint).toBe("https://my-speech.cognitiveservices.azure.com");
    expect(clients.realtime.endpoint).toBe("https://rt.example");
    // Realtime goes to the regional TTS host, also with a custom domain (its /tts path needs a private endpoint).
    expect(realtimeEndpointOf({ SPEECH_ENDPOINT: entra.SPEECH_ENDPOINT, SPEECH_REGION: "westeurope" })).toBe(
      "https://westeurope.tts.speech.microsoft.com",
    );
    expect(realtimeEndpointOf({ SPEECH_ENDPOINT: "http://127.0.0.1:7090" })).toBe("http://127.0.0.1:7090");
    expect(
      isTokenCredential(
        speechCredentialOf({ ...entra, AZURE_CLIENT_ID: "00000000-0000-0000-0000-000000000000" }),
      ),
    ).toBe(true);
  });
});

describe("content types of headerless outputs", () => {
  it("labels only 8 kHz mu-law as audio/basic, A-law as audio/PCMA, other raw PCM as plain bytes", () => {
    expect(getOutputFormat("raw-8khz-8bit-mono-mulaw").contentType).toBe("audio/basic");
    expect(getOutputFormat("raw-8khz-8bit-mono-alaw").contentType).toBe("audio/PCMA");
    expect(getOutputFormat("raw-24khz-16bit-mono-pcm").contentType).toBe("application/octet-stream");
    expect(getOutputFormat("riff-24khz-16bit-mono-pcm").contentType).toBe("audio/wav");
  });
});
