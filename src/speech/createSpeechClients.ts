import { AzureKeyCredential, type KeyCredential, type TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import type { Settings } from "../config/settings.js";
import { BatchSynthesisClient } from "./BatchSynthesisClient.js";
import type { SpeechClientOptions } from "./httpPipeline.js";
import { RealtimeSynthesisClient } from "./RealtimeSynthesisClient.js";

type SpeechSettings = Pick<
  Settings,
  | "SPEECH_ENDPOINT"
  | "SPEECH_REGION"
  | "SPEECH_KEY"
  | "SPEECH_REALTIME_ENDPOINT"
  | "SPEECH_RESOURCE_ID"
  | "AZURE_CLIENT_ID"
>;

/** Batch endpoint: SPEECH_ENDPOINT (custom domain, required for Entra ID), else the regional host. */
export function batchEndpointOf(settings: SpeechSettings): string {
  if (settings.SPEECH_ENDPOINT) return settings.SPEECH_ENDPOINT;
  if (settings.SPEECH_REGION) return `https://${settings.SPEECH_REGION}.api.cognitive.microsoft.com`;
  throw new TypeError("Set SPEECH_ENDPOINT or SPEECH_REGION.");
}

/**
 * Realtime endpoint: SPEECH_REALTIME_ENDPOINT; else the regional host
 * `https://{SPEECH_REGION}.tts.speech.microsoft.com` (the documented text-to-speech endpoint, which takes keys and
 * `aad#{resourceId}#{token}` Entra tokens: rest-text-to-speech.md "Regions and endpoints", "Authentication");
 * else SPEECH_ENDPOINT itself (the emulator). A custom domain's `/tts/cognitiveservices/v1` path is documented only
 * for resources with a private endpoint (speech-services-private-link.md), so it is never derived: set
 * SPEECH_REALTIME_ENDPOINT to `https://{name}.cognitiveservices.azure.com/tts` for such a resource.
 */
export function realtimeEndpointOf(settings: SpeechSettings): string {
  if (settings.SPEECH_REALTIME_ENDPOINT) return settings.SPEECH_REALTIME_ENDPOINT;
  if (settings.SPEECH_REGION) return `https://${settings.SPEECH_REGION}.tts.speech.microsoft.com`;
  return batchEndpointOf(settings);
}

/** SPEECH_KEY -> key credential; otherwise Microsoft Entra ID through DefaultAzureCredential (AZURE_CLIENT_ID honoured). */
export function speechCredentialOf(settings: SpeechSettings): KeyCredential | TokenCredential {
  if (settings.SPEECH_KEY) return new AzureKeyCredential(settings.SPEECH_KEY);
  return new DefaultAzureCredential(
    settings.AZURE_CLIENT_ID ? { managedIdentityClientId: settings.AZURE_CLIENT_ID } : {},
  );
}

/** Both Speech clients from app settings (CONTRACT §5), sharing one credential. */
export function createSpeechClients(
  settings: SpeechSettings,
  options: SpeechClientOptions = {},
): { batch: BatchSynthesisClient; realtime: RealtimeSynthesisClient } {
  const credential = speechCredentialOf(settings);
  return {
    batch: new BatchSynthesisClient(batchEndpointOf(settings), credential, options),
    realtime: new RealtimeSynthesisClient(realtimeEndpointOf(settings), credential, {
      ...options,
      ...(settings.SPEECH_RESOURCE_ID ? { resourceId: settings.SPEECH_RESOURCE_ID } : {}),
    }),
  };
}
