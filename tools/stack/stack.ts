import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BlobServiceClient } from "@azure/storage-blob";
import { settingsSchema } from "../../src/config/settings.js";
import { startEmulator } from "../emulator/index.js";
import { startLocalHost } from "../local-host/index.js";
import { startAzurite } from "../shared/azurite.js";
import { waitFor } from "../shared/waitFor.js";
import { acquireStateLock, recordAzuritePid, waitForPreviousAzurite } from "./lock.js";
import { choosePorts, type PortPolicy, type StackPorts } from "./ports.js";

/** Repository root: the Functions app the local host loads (package.json main = dist/functions/*.js). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** App settings (CONTRACT §5 and the app's tuning knobs) passed through from the environment when set. */
const PASS_THROUGH_SETTINGS = Object.keys(settingsSchema.shape).filter(
  (name) => !name.startsWith("AzureWebJobsStorage") && !name.startsWith("SPEECH_"),
);

export type AudioMode = "speech" | "synthetic" | "fast";

export interface StackOptions {
  /** All state (Azurite data, emulator jobs and usage; durable state lives in Azurite). */
  stateDir: string;
  /** Default `free`; `npm start` uses `fixed`, the demo `prefer`. */
  portPolicy?: PortPolicy;
  /** Override single ports (0 = free). */
  ports?: Partial<StackPorts>;
  /** Where settings, EMULATOR_* and LOCAL_HOST_* come from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** EMULATOR_TIME_SCALE (default from env, else 1). */
  emulatorTimeScale?: number;
  /** LOCAL_HOST_TIME_SCALE (default from env, else 1). */
  hostTimeScale?: number;
  /** Emulator audio: `speech` (espeak-ng), `synthetic` or `fast`; default from EMULATOR_AUDIO. */
  audioMode?: AudioMode;
  /** Extra app settings (win over the environment). */
  settings?: Record<string, string>;
  /** Durable task hub; default from host.json. */
  taskHub?: string;
  /** Folder of the Functions app; default the repository root. */
  appDir?: string;
  /** Progress lines (not the READY line); default: nothing. */
  log?: (line: string) => void;
}

export interface RunningStack {
  /** Functions host base URL, e.g. http://localhost:7071. */
  apiUrl: string;
  emulatorUrl: string;
  /** Emulator key (a local development value, not a real secret). */
  emulatorKey: string;
  storageConnectionString: string;
  ports: StackPorts;
  stateDir: string;
  /** The app settings the host runs with. */
  appSettings: Record<string, string>;
  emulatorTimeScale: number;
  hostTimeScale: number;
  /** Checks every part answers right now (Azurite, emulator, host). */
  ping(): Promise<void>;
  /** Stops host, emulator and Azurite, in that order; idempotent. */
  stop(): Promise<void>;
}

function numberSetting(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${value}").`);
  return n;
}

/**
 * Starts the whole local stack: Azurite (data in `{stateDir}/azurite`), the Speech emulator
 * (`{stateDir}/emulator`) and the local Functions host running the built app against both, and
 * resolves once every part answers. Because every part keeps its state under `stateDir`, a stack
 * started again on the same folder resumes the projects that were running.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const releaseLock = await acquireStateLock(stateDir);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch((error: unknown) => log(`stop failed: ${(error as Error).message}`));
    }
    releaseLock();
  };

  try {
    // Before the ports are chosen: a previous Azurite still saving holds them.
    await waitForPreviousAzurite(stateDir);
    const ports = await choosePorts(options.portPolicy ?? "free", options.ports);
    const emulatorTimeScale =
      options.emulatorTimeScale ?? numberSetting(env["EMULATOR_TIME_SCALE"], "EMULATOR_TIME_SCALE") ?? 1;
    const hostTimeScale =
      options.hostTimeScale ?? numberSetting(env["LOCAL_HOST_TIME_SCALE"], "LOCAL_HOST_TIME_SCALE") ?? 1;

    log(`Azurite on 127.0.0.1:${ports.blob}-${ports.table} (data in ${join(stateDir, "azurite")})`);
    const azurite = await startAzurite({
      guarded: true,
      location: join(stateDir, "azurite"),
      blobPort: ports.blob,
      queuePort: ports.queue,
      tablePort: ports.table,
    });
    recordAzuritePid(stateDir, azurite.pid);
    stops.push(() => azurite.stop());

    log(`Speech emulator on 127.0.0.1:${ports.emulator} (time scale ${emulatorTimeScale})`);
    const emulator = await startEmulator({
      port: ports.emulator,
      stateDir: join(stateDir, "emulator"),
      timeScale: emulatorTimeScale,
      env,
      ...(options.audioMode ? { audioMode: options.audioMode } : {}),
    });
    stops.push(() => emulator.stop());

    const appSettings: Record<string, string> = {};
    for (const name of PASS_THROUGH_SETTINGS) {
      const value = env[name];
      if (value) appSettings[name] = value;
    }
    Object.assign(appSettings, {
      AzureWebJobsStorage: azurite.connectionString,
      // The local stack speaks to its own emulator unless SPEECH_ENDPOINT points elsewhere on purpose.
      SPEECH_ENDPOINT: env["SPEECH_ENDPOINT"] || emulator.url,
      SPEECH_REALTIME_ENDPOINT: env["SPEECH_REALTIME_ENDPOINT"] || env["SPEECH_ENDPOINT"] || emulator.url,
      SPEECH_REGION: env["SPEECH_REGION"] || "local",
      EMULATOR_TIME_SCALE: String(emulatorTimeScale),
      LOCAL_HOST_TIME_SCALE: String(hostTimeScale),
      // Info shows the pipeline's events (src/observability): one line per job state change.
      LOCAL_HOST_LOG_LEVEL: env["LOCAL_HOST_LOG_LEVEL"] || "info",
    });
    if (env["SPEECH_ENDPOINT"]) {
      if (env["SPEECH_KEY"]) appSettings["SPEECH_KEY"] = env["SPEECH_KEY"];
    } else {
      appSettings["SPEECH_KEY"] = emulator.key;
    }
    Object.assign(appSettings, options.settings);

    log(`Functions host on localhost:${ports.host} (time scale ${hostTimeScale})`);
    const host = await startLocalHost({
      appDir: options.appDir ?? REPO_ROOT,
      port: ports.host,
      env: appSettings,
      storageConnectionString: azurite.connectionString,
      timeScale: hostTimeScale,
      ...(options.taskHub ? { taskHub: options.taskHub } : {}),
    });
    stops.push(() => host.stop());

    const apiUrl = `http://localhost:${host.port}`;
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString, {
      retryOptions: { maxTries: 1 },
    });
    const ping = async () => {
      await blobs.getProperties();
      const usage = await fetch(`${emulator.url}/emulator/usage`, {
        headers: { "Ocp-Apim-Subscription-Key": emulator.key },
        signal: AbortSignal.timeout(5_000),
      });
      if (usage.status !== 200) throw new Error(`emulator answered ${usage.status} to /emulator/usage`);
      await usage.arrayBuffer();
      // Any HTTP answer from the app's own route proves the host is up and the app is loaded.
      const api = await fetch(`${apiUrl}/api/projects/readiness-probe/synthesis`, {
        signal: AbortSignal.timeout(5_000),
      });
      await api.arrayBuffer();
      if (api.status >= 500) throw new Error(`Functions host answered ${api.status}`);
    };
    await waitFor(
      async () => {
        await ping();
        return true;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        description: "Azurite, the Speech emulator and the Functions host to answer",
      },
    );

    return {
      apiUrl,
      emulatorUrl: emulator.url,
      emulatorKey: emulator.key,
      storageConnectionString: azurite.connectionString,
      ports: { ...ports, host: host.port, emulator: emulator.port },
      stateDir,
      appSettings,
      emulatorTimeScale,
      hostTimeScale,
      ping,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
