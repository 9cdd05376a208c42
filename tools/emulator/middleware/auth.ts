import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ErrorFactory } from "../errors.js";

/**
 * ARM id of a Speech (Cognitive Services) account, the middle part of a realtime Entra token:
 * `aad#{resourceId}#{token}` ("Use Microsoft Entra authentication",
 * MicrosoftDocs/azure-ai-docs articles/ai-services/speech-service/includes/cognitive-services-speech-service-rest-auth.md).
 */
const SPEECH_RESOURCE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.CognitiveServices\/accounts\/[^/#]+$/i;

/** Issuer of the STS tokens `POST /sts/v1.0/issueToken` hands out here (the documented key-for-token exchange). */
export const EMULATOR_TOKEN_ISSUER = "speech-emulator";

export interface AuthOptions {
  key: string;
  /** The realtime endpoint: a bearer token must be `aad#<resource id>#<token>` or an STS token from issueToken. */
  realtime?: boolean;
  /** When set, the `aad#` resource id must be this one (a token for another Speech resource is refused). */
  resourceId?: string | undefined;
}

/**
 * `Ocp-Apim-Subscription-Key` must equal the emulator key. `Authorization: Bearer <token>` is accepted with
 * any token on the batch API (there is no Entra ID here; Azure takes a plain Entra JWT on a custom domain).
 * On the realtime endpoint Azure only understands `aad#{resourceId}#{token}` (or an issueToken STS token), so
 * a plain JWT is refused with 401 as the service does (speech-sdk-js #941, cognitive-services-speech-sdk #2890).
 * Returns the rate-limit identity of the caller.
 */
export function authenticate(req: IncomingMessage, options: AuthOptions): string {
  const { key } = options;
  const subscriptionKey = req.headers["ocp-apim-subscription-key"];
  if (typeof subscriptionKey === "string" && subscriptionKey.length > 0) {
    const given = Buffer.from(subscriptionKey);
    const expected = Buffer.from(key);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return `key:${key}`;
    throw ErrorFactory.unauthorized();
  }
  const authorization = req.headers.authorization;
  const token = typeof authorization === "string" ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
  if (token === undefined) throw ErrorFactory.unauthorized();
  if (options.realtime && !isRealtimeToken(token, options.resourceId)) {
    throw ErrorFactory.unauthorized(
      "The realtime endpoint takes a Microsoft Entra token only as 'aad#{resourceId}#{token}' (the Speech resource's ARM id, then the token), a key, or an issueToken access token.",
    );
  }
  return `key:${key}`;
}

function isRealtimeToken(token: string, resourceId: string | undefined): boolean {
  const aad = /^aad#([^#]+)#(.+)$/.exec(token);
  if (aad) {
    const [, id = "", entraToken = ""] = aad;
    if (!SPEECH_RESOURCE_ID.test(id) || entraToken.length === 0) return false;
    return resourceId === undefined || id.toLowerCase() === resourceId.toLowerCase();
  }
  return isEmulatorStsToken(token);
}

/** A JWT this emulator's issueToken made (`iss` speech-emulator). */
function isEmulatorStsToken(token: string): boolean {
  const payload = token.split(".")[1];
  if (!payload) return false;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss?: unknown };
    return claims.iss === EMULATOR_TOKEN_ISSUER;
  } catch {
    return false;
  }
}
