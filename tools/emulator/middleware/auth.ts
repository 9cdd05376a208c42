import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ErrorFactory } from "../errors.js";

/**
 * `Ocp-Apim-Subscription-Key` must equal the emulator key; `Authorization: Bearer <token>` is accepted
 * with any token (there is no Entra ID here). Returns the rate-limit identity of the caller.
 */
export function authenticate(req: IncomingMessage, key: string): string {
  const subscriptionKey = req.headers["ocp-apim-subscription-key"];
  if (typeof subscriptionKey === "string" && subscriptionKey.length > 0) {
    const given = Buffer.from(subscriptionKey);
    const expected = Buffer.from(key);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return `key:${key}`;
    throw ErrorFactory.unauthorized();
  }
  const authorization = req.headers.authorization;
  if (typeof authorization === "string" && /^Bearer\s+\S+/i.test(authorization)) return `key:${key}`;
  throw ErrorFactory.unauthorized();
}
