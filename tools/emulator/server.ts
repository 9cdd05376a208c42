import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { API_VERSION, MAX_REALTIME_BODY_BYTES, REQUEST_ID_HEADER } from "./constants.js";
import type { EmulatorServices, RequestContext } from "./context.js";
import { ErrorFactory } from "./errors.js";
import {
  createSynthesis,
  deleteSynthesis,
  getOperation,
  getSynthesis,
  listSyntheses,
} from "./handlers/batchSyntheses.js";
import {
  addFault,
  clearFaults,
  getDownloads,
  getUsage,
  health,
  listFaults,
} from "./handlers/emulatorAdmin.js";
import { issueToken, listVoices, synthesizeRealtime } from "./handlers/realtime.js";
import { downloadResults } from "./handlers/resultsDownload.js";
import { sendError } from "./http.js";
import { authenticate } from "./middleware/auth.js";
import { readBody } from "./middleware/body.js";

type Handler = (ctx: RequestContext, services: EmulatorServices) => Promise<void>;

/** What the middleware chain does for a route. */
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /**
   * "speech": key auth + batch rate limit + faults; "realtime": key or realtime token + realtime rate limit +
   * faults; "admin": key auth only; "sas": signed URL; "open": nothing.
   */
  kind: "speech" | "realtime" | "admin" | "sas" | "open";
  /** Served only when the emulated resource has a private endpoint (EMULATOR_PRIVATE_ENDPOINT). */
  privateEndpointOnly?: boolean;
  apiVersion: boolean;
  /** Body limit in bytes when the route reads a body. */
  body?: (services: EmulatorServices) => number;
}

const ID = "([^/]+)";
const ROUTES: Route[] = [
  {
    method: "GET",
    pattern: /^\/texttospeech\/batchsyntheses\/?$/,
    handler: listSyntheses,
    kind: "speech",
    apiVersion: true,
  },
  {
    method: "PUT",
    pattern: new RegExp(`^/texttospeech/batchsyntheses/${ID}$`),
    handler: createSynthesis,
    kind: "speech",
    apiVersion: true,
    body: (s) => s.config.maxPayloadBytes,
  },
  {
    method: "GET",
    pattern: new RegExp(`^/texttospeech/batchsyntheses/${ID}$`),
    handler: getSynthesis,
    kind: "speech",
    apiVersion: true,
  },
  {
    method: "DELETE",
    pattern: new RegExp(`^/texttospeech/batchsyntheses/${ID}$`),
    handler: deleteSynthesis,
    kind: "speech",
    apiVersion: true,
  },
  {
    method: "GET",
    pattern: new RegExp(`^/texttospeech/operations/${ID}$`),
    handler: getOperation,
    kind: "speech",
    apiVersion: true,
  },
  {
    method: "POST",
    pattern: /^\/cognitiveservices\/v1\/?$/,
    handler: synthesizeRealtime,
    kind: "realtime",
    apiVersion: false,
    body: () => MAX_REALTIME_BODY_BYTES,
  },
  {
    // The custom-domain realtime path is documented only for resources with a private endpoint
    // (MicrosoftDocs/azure-ai-docs articles/ai-services/speech-service/speech-services-private-link.md);
    // without one, Azure answers 401/404 there (speech-sdk-js #941, cognitive-services-speech-sdk #2890).
    method: "POST",
    pattern: /^\/tts\/cognitiveservices\/v1\/?$/,
    handler: synthesizeRealtime,
    kind: "realtime",
    apiVersion: false,
    body: () => MAX_REALTIME_BODY_BYTES,
    privateEndpointOnly: true,
  },
  {
    method: "GET",
    // On the text-to-speech host: the same auth and quota as realtime synthesis.
    pattern: /^\/cognitiveservices\/voices\/list\/?$/,
    handler: listVoices,
    kind: "realtime",
    apiVersion: false,
  },
  {
    method: "POST",
    pattern: /^\/sts\/v1\.0\/issue[Tt]oken\/?$/,
    handler: issueToken,
    kind: "admin",
    apiVersion: false,
    body: () => 64 * 1024,
  },
  {
    method: "GET",
    pattern: new RegExp(`^/batchsynthesis-output/[^/]+/${ID}/results\\.zip$`),
    handler: downloadResults,
    kind: "sas",
    apiVersion: false,
  },
  {
    method: "HEAD",
    pattern: new RegExp(`^/batchsynthesis-output/[^/]+/${ID}/results\\.zip$`),
    handler: downloadResults,
    kind: "sas",
    apiVersion: false,
  },
  { method: "GET", pattern: /^\/emulator\/usage$/, handler: getUsage, kind: "admin", apiVersion: false },
  {
    method: "GET",
    pattern: /^\/emulator\/downloads$/,
    handler: getDownloads,
    kind: "admin",
    apiVersion: false,
  },
  { method: "GET", pattern: /^\/emulator\/faults$/, handler: listFaults, kind: "admin", apiVersion: false },
  {
    method: "POST",
    pattern: /^\/emulator\/faults$/,
    handler: addFault,
    kind: "admin",
    apiVersion: false,
    body: () => 64 * 1024,
  },
  {
    method: "DELETE",
    pattern: /^\/emulator\/faults$/,
    handler: clearFaults,
    kind: "admin",
    apiVersion: false,
  },
  { method: "GET", pattern: /^\/emulator\/health$/, handler: health, kind: "open", apiVersion: false },
];

const PARAM_NAMES: Record<string, string> = { "/texttospeech/operations/": "operationId" };

function dispatch(
  method: string,
  path: string,
  privateEndpoint: boolean,
): { route: Route; params: Record<string, string> } {
  let pathMatched = false;
  for (const route of ROUTES) {
    if (route.privateEndpointOnly && !privateEndpoint) continue;
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const name = Object.entries(PARAM_NAMES).find(([prefix]) => path.startsWith(prefix))?.[1] ?? "id";
    const params: Record<string, string> = {};
    if (match[1] !== undefined) params[name] = decodeURIComponent(match[1]);
    return { route, params };
  }
  throw pathMatched ? ErrorFactory.methodNotAllowed(method) : ErrorFactory.routeNotFound();
}

/**
 * The request listener. Middleware runs in a fixed order (Azurite's QueueRequestListenerFactory):
 * context → dispatch → authentication → rate limit → faults → api-version → body → handler → error.
 */
export function createRequestListener(services: EmulatorServices) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // 1. context
    const requestId = randomUUID();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.setHeader("x-requestid", requestId);
    const host = req.headers.host ?? `${services.config.host}:${services.config.port}`;
    const baseUrl = services.config.publicUrl?.replace(/\/+$/, "") ?? `http://${host}`;
    const url = new URL(req.url ?? "/", "http://emulator.local");
    const ctx: RequestContext = { req, res, requestId, url, baseUrl, params: {} };
    try {
      // 2. dispatch
      const { route, params } = dispatch(req.method ?? "GET", url.pathname, services.config.privateEndpoint);
      ctx.params = params;
      // 3. authentication
      if (route.kind === "speech" || route.kind === "realtime" || route.kind === "admin") {
        ctx.caller = authenticate(req, {
          key: services.config.key,
          realtime: route.kind === "realtime",
          resourceId: services.config.resourceId,
        });
      }
      if (route.kind === "speech" || route.kind === "realtime") {
        // 4. rate limit (realtime has its own quota)
        try {
          const limiter = route.kind === "realtime" ? services.realtimeRateLimiter : services.rateLimiter;
          limiter.check(ctx.caller as string);
        } catch (error) {
          // A failed bill write must not turn the 429 into a 500.
          await services.store
            .updateUsage((u) => {
              u.requests.throttled += 1;
            })
            .catch(() => {});
          throw error;
        }
        // 5. faults
        const fault = services.faults.take(req.method ?? "GET", url.pathname);
        if (fault) {
          if (fault.status === 429) {
            await services.store
              .updateUsage((u) => {
                u.requests.throttled += 1;
              })
              .catch(() => {});
          }
          throw fault;
        }
      }
      // 6. api-version
      if (route.apiVersion) {
        const version = url.searchParams.get("api-version");
        if (!version) throw ErrorFactory.missingApiVersion();
        if (version !== API_VERSION) throw ErrorFactory.unsupportedApiVersion(version);
      }
      // 7. body
      if (route.body) {
        const limit = route.body(services);
        const status = route.handler === createSynthesis ? services.config.payloadTooLargeStatus : 400;
        ctx.body = await readBody(req, limit, () => ErrorFactory.payloadTooLarge(limit, status));
      }
      // 8. handler
      await route.handler(ctx, services);
    } catch (error) {
      // 9. error
      if (!req.complete) req.resume();
      sendError(res, error);
    }
  };
}
