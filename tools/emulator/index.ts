import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type EmulatorOptions, resolveConfig } from "./config.js";
import type { EmulatorServices } from "./context.js";
import { DownloadLog } from "./downloadLog.js";
import { FaultInjector } from "./middleware/faults.js";
import { RateLimiter } from "./middleware/rateLimit.js";
import { createRequestListener } from "./server.js";
import { FileStore } from "./store/fileStore.js";
import { MemoryStore } from "./store/memoryStore.js";
import { SynthesisEngine } from "./synthesisEngine.js";

export { type Clock, ManualClock } from "./clock.js";
export type { AudioMode, EmulatorOptions } from "./config.js";
export type { Usage } from "./model.js";

export interface RunningEmulator {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  port: number;
  key: string;
  stop(): Promise<void>;
}

/**
 * Starts the Speech emulator in this process: the Batch Synthesis API (api-version 2024-04-01) under
 * `/texttospeech`, the realtime endpoint `POST /cognitiveservices/v1`, and `/emulator/*` controls.
 * Options default from EMULATOR_* variables (docs/emulator.md).
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const config = resolveConfig(options);
  const store = config.stateDir ? new FileStore(config.stateDir) : new MemoryStore();
  await store.open();
  const engine = new SynthesisEngine(store, config);
  const services: EmulatorServices = {
    config,
    store,
    engine,
    faults: new FaultInjector(config.retryAfter),
    rateLimiter: new RateLimiter(config.rateLimit, config.clock, config.retryAfter),
    realtimeRateLimiter: new RateLimiter(
      config.realtimeRateLimit,
      config.clock,
      config.retryAfter,
      "Too many requests: the realtime text to speech quota of this resource is exceeded.",
    ),
    downloads: new DownloadLog(),
    sasSecret: createHmac("sha256", "speech-emulator-result-sas").update(config.key).digest(),
  };
  const server = createServer(createRequestListener(services));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  config.port = port;
  // Jobs persisted before a restart continue their timeline; unfinished production restarts.
  engine.resumeAll();
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${config.host}:${port}`,
    port,
    key: config.key,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await engine.stop();
        await store.close();
      })();
      return stopping;
    },
  };
}
