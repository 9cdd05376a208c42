import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  COGNITIVE_SERVICES_SCOPE,
  createSpeechClients,
  RealtimeSynthesisClient,
  SpeechServiceError,
} from "../../src/speech/index.js";
import { textToSsml } from "../../src/text/index.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/**
 * Realtime synthesis with Microsoft Entra ID: the regional endpoint takes `Authorization: Bearer
 * aad#{resourceId}#{token}` (rest-text-to-speech.md "Use Microsoft Entra authentication"). The emulator refuses
 * any other bearer form on realtime, as Azure does, so a client that sends a plain JWT fails here.
 */
const RESOURCE_ID =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-tts/providers/Microsoft.CognitiveServices/accounts/speech-tts";
const SSML = textToSsml("Hello from a managed identity.", { voice: "en-US-AvaMultilingualNeural" });
const FORMAT = "riff-24khz-16bit-mono-pcm";

/** A TokenCredential that counts its calls and records the scopes asked for. */
function fakeEntraCredential(expiresInMs = 3_600_000) {
  const scopes: (string | string[])[] = [];
  let issued = 0;
  const credential: TokenCredential = {
    async getToken(scope): Promise<AccessToken> {
      scopes.push(scope);
      issued += 1;
      return { token: `eyJhbGciOi.entra-${issued}.sig`, expiresOnTimestamp: Date.now() + expiresInMs };
    },
  };
  return { credential, scopes, issued: () => issued };
}

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ rateLimit: false, resourceId: RESOURCE_ID });
});
afterAll(async () => {
  await emulator?.stop();
});

async function realtimeStatus(path: string, authorization: string, target = emulator): Promise<number> {
  const response = await fetch(`${target.url}${path}`, {
    method: "POST",
    headers: {
      Authorization: authorization,
      "Content-Type": "application/ssml+xml",
      "X-Microsoft-OutputFormat": FORMAT,
    },
    body: SSML,
  });
  await response.arrayBuffer();
  return response.status;
}

describe("realtime with Microsoft Entra ID", () => {
  it("sends aad#{resourceId}#{token} (token for cognitiveservices.azure.com) and reuses the cached token", async () => {
    const entra = fakeEntraCredential();
    const client = new RealtimeSynthesisClient(emulator.url, entra.credential, { resourceId: RESOURCE_ID });
    const before = await emulator.usage();
    const first = await client.synthesize(SSML, FORMAT);
    const second = await client.synthesize(SSML, FORMAT);
    expect(first.subarray(0, 4).toString("latin1")).toBe("RIFF");
    expect(second.length).toBeGreaterThan(44);
    // The voice list (words per minute for sizing requests) takes the same aad# token.
    expect(await client.voiceWordsPerMinute("en-US-AvaMultilingualNeural")).toBe(150);
    expect(entra.scopes).toEqual([COGNITIVE_SERVICES_SCOPE]);
    expect(entra.issued()).toBe(1);
    const after = await emulator.usage();
    expect(after.requests.realtime - before.requests.realtime).toBe(2);
  });

  it("createSpeechClients wires SPEECH_RESOURCE_ID into the realtime client (no key: Entra ID)", async () => {
    const { realtime } = createSpeechClients({
      SPEECH_ENDPOINT: emulator.url,
      SPEECH_REALTIME_ENDPOINT: emulator.url,
      SPEECH_RESOURCE_ID: RESOURCE_ID,
    });
    // DefaultAzureCredential finds nothing here: the point is that the request is refused before any plain JWT
    // is sent. With the resource id missing, the error names the setting.
    const { realtime: missing } = createSpeechClients({ SPEECH_ENDPOINT: emulator.url });
    await expect(missing.synthesize(SSML, FORMAT)).rejects.toThrow(/SPEECH_RESOURCE_ID/);
    expect(realtime.endpoint).toBe(emulator.url);
  });

  it("refuses a token for another Speech resource", async () => {
    const entra = fakeEntraCredential();
    const other = RESOURCE_ID.replace("speech-tts", "someone-else");
    const client = new RealtimeSynthesisClient(emulator.url, entra.credential, { resourceId: other });
    await expect(client.synthesize(SSML, FORMAT)).rejects.toMatchObject({ statusCode: 401 });
  });

  it("the emulator refuses a plain bearer JWT on realtime, but not on the batch API", async () => {
    expect(await realtimeStatus("/cognitiveservices/v1", "Bearer eyJhbGciOi.plain-jwt.sig")).toBe(401);
    expect(await realtimeStatus("/cognitiveservices/v1", "Bearer aad#not-an-arm-id#token")).toBe(401);
    expect(await realtimeStatus("/cognitiveservices/v1", `Bearer aad#${RESOURCE_ID}#`)).toBe(401);
    expect(await realtimeStatus("/cognitiveservices/v1", `Bearer aad#${RESOURCE_ID}#tok`)).toBe(200);
    const batch = await fetch(`${emulator.url}/texttospeech/batchsyntheses?api-version=2024-04-01`, {
      headers: { Authorization: "Bearer eyJhbGciOi.plain-jwt.sig" },
    });
    await batch.arrayBuffer();
    expect(batch.status).toBe(200);
    // The documented key-for-token exchange still works on realtime.
    const sts = await fetch(`${emulator.url}/sts/v1.0/issueToken`, {
      method: "POST",
      headers: { "Ocp-Apim-Subscription-Key": emulator.key },
    });
    expect(await realtimeStatus("/cognitiveservices/v1", `Bearer ${await sts.text()}`)).toBe(200);
  });

  it("serves the custom-domain /tts path only when the resource has a private endpoint", async () => {
    const auth = `Bearer aad#${RESOURCE_ID}#tok`;
    expect(await realtimeStatus("/tts/cognitiveservices/v1", auth)).toBe(404);
    const privateLink = await startTestEmulator({ rateLimit: false, privateEndpoint: true });
    try {
      expect(await realtimeStatus("/tts/cognitiveservices/v1", auth, privateLink)).toBe(200);
      const client = new RealtimeSynthesisClient(`${privateLink.url}/tts`, fakeEntraCredential().credential, {
        resourceId: RESOURCE_ID,
      });
      await expect(client.synthesize(SSML, FORMAT)).resolves.toBeInstanceOf(Buffer);
    } finally {
      await privateLink.stop();
    }
  });

  it("key auth still works (local runs)", async () => {
    const { realtime } = createSpeechClients({ SPEECH_ENDPOINT: emulator.url, SPEECH_KEY: emulator.key });
    await expect(realtime.synthesize(SSML, FORMAT)).resolves.toBeInstanceOf(Buffer);
    const wrong = createSpeechClients({ SPEECH_ENDPOINT: emulator.url, SPEECH_KEY: "nope" }).realtime;
    await expect(wrong.synthesize(SSML, FORMAT)).rejects.toBeInstanceOf(SpeechServiceError);
  });
});
