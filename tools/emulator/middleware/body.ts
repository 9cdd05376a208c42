import type { IncomingMessage } from "node:http";
import type { SpeechError } from "../errors.js";

/** Reads the request body, refusing (after draining) more than `limit` bytes. */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  tooLarge: () => SpeechError,
): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let over = false;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) over = true;
    if (!over) chunks.push(chunk as Buffer);
  }
  if (over) throw tooLarge();
  return Buffer.concat(chunks);
}
