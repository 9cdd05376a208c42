import type { IncomingMessage, ServerResponse } from "node:http";
import type { ResolvedConfig } from "./config.js";
import type { DownloadLog } from "./downloadLog.js";
import type { FaultInjector } from "./middleware/faults.js";
import type { RateLimiter } from "./middleware/rateLimit.js";
import type { EmulatorStore } from "./store/store.js";
import type { SynthesisEngine } from "./synthesisEngine.js";

/** Everything a handler needs, built once per server. */
export interface EmulatorServices {
  config: ResolvedConfig;
  store: EmulatorStore;
  engine: SynthesisEngine;
  faults: FaultInjector;
  rateLimiter: RateLimiter;
  /** Realtime text to speech has its own quota (S0: 200 transactions per second), separate from batch's 100/10 s. */
  realtimeRateLimiter: RateLimiter;
  /** Secret for result URL signatures (derived from the key, so URLs survive restarts). */
  sasSecret: Buffer;
  /** results.zip requests served (`GET /emulator/downloads`). */
  downloads: DownloadLog;
}

/** Per-request context (Azurite's Context): ids, parsed URL, caller identity and body. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  url: URL;
  /** Base URL the caller used (scheme + host), for Operation-Location, nextLink and result URLs. */
  baseUrl: string;
  params: Record<string, string>;
  /** Rate-limit identity: the subscription key, or "bearer" for token callers. */
  caller?: string;
  body?: Buffer;
}
