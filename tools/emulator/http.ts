import type { ServerResponse } from "node:http";
import { ErrorFactory, SpeechError } from "./errors.js";

/** A request body as JSON (any Content-Type: `curl -d` sends form encoding); the service's error when it is not. */
export function parseJsonBody(body: Buffer | undefined): unknown {
  try {
    return JSON.parse((body ?? Buffer.alloc(0)).toString("utf8"));
  } catch {
    throw ErrorFactory.malformedJson();
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}

/** Error middleware: the service envelope plus `x-ms-error-code`; anything unexpected is a 500. */
export function sendError(res: ServerResponse, error: unknown): void {
  const speechError =
    error instanceof SpeechError
      ? error
      : new SpeechError(500, "InternalServerError", "An unexpected error occurred in the Speech emulator.");
  if (!(error instanceof SpeechError)) console.error("speech emulator: unexpected error", error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, speechError.status, speechError.toBody(), {
    ...speechError.headers,
    "x-ms-error-code": String(speechError.code),
  });
}

/** Blob-storage style XML error (result downloads are served like a SAS blob URL). */
export function sendBlobError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
): void {
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message></Error>`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": String(Buffer.byteLength(xml)),
    "x-ms-error-code": code,
    "x-ms-request-id": requestId,
    ...headers,
  });
  res.end(xml);
}

/** 2024-03-12T07:23:18.0097387Z: the service's seven fractional digits. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}
