import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { BlobServiceClient } from "@azure/storage-blob";
import { getFreePort } from "./ports.js";
import { waitFor } from "./waitFor.js";

/** The well-known Azurite development account (public, documented by Azurite; not a secret). */
export const DEV_ACCOUNT = "devstoreaccount1";
export const DEV_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteOptions {
  /** Directory for persistent data; in-memory when omitted. */
  location?: string;
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /**
   * Run under child-guard.mjs so Azurite ends with this process even when it is killed with SIGKILL
   * (the long-running stack, on fixed ports, needs this; test runs stop Azurite themselves). The guard
   * runs in its own process group, so a kill of this process's whole group (a crash, `kill -9 -pgid`)
   * does not reach Azurite: the guard sees our end and stops Azurite with SIGTERM, which saves its data.
   * Azurite keeps blob, queue and table metadata in LokiJS databases saved every 5 s, so a SIGKILLed
   * Azurite forgets writes it had acknowledged (node_modules/azurite/dist/src/blob/persistence/
   * LokiBlobMetadataStore.js `autosaveInterval: 5000`), which Azure Storage never does.
   */
  guarded?: boolean;
}

export interface RunningAzurite {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  /** Process id of the guard (guarded) or of Azurite; it ends once Azurite has saved its data and exited. */
  pid: number;
  stop(): Promise<void>;
}

export function azuriteConnectionString(blobPort: number, queuePort: number, tablePort: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${blobPort}/${DEV_ACCOUNT};` +
    `QueueEndpoint=http://127.0.0.1:${queuePort}/${DEV_ACCOUNT};` +
    `TableEndpoint=http://127.0.0.1:${tablePort}/${DEV_ACCOUNT};`
  );
}

/** Starts Azurite (Blob, Queue, Table) as a child process on free ports and waits until it answers. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const blobPort = options.blobPort ?? (await getFreePort());
  const queuePort = options.queuePort ?? (await getFreePort());
  const tablePort = options.tablePort ?? (await getFreePort());
  const require = createRequire(import.meta.url);
  const azuriteBin = require.resolve("azurite/dist/src/azurite.js");
  const args = [
    azuriteBin,
    "--blobHost",
    "127.0.0.1",
    "--blobPort",
    String(blobPort),
    "--queueHost",
    "127.0.0.1",
    "--queuePort",
    String(queuePort),
    "--tableHost",
    "127.0.0.1",
    "--tablePort",
    String(tablePort),
    "--disableTelemetry",
    "--silent",
    "--skipApiVersionCheck",
    "--loose",
  ];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push("--location", options.location);
  } else {
    args.push("--inMemoryPersistence");
  }
  if (options.guarded)
    args.unshift(fileURLToPath(new URL("./child-guard.mjs", import.meta.url)), process.execPath);
  // The guard watches its stdin: we hold it open, and its end means we are gone.
  const stdin = options.guarded ? "pipe" : "ignore";
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: [stdin, "ignore", "pipe"],
    detached: options.guarded === true,
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const connectionString = azuriteConnectionString(blobPort, queuePort, tablePort);
  const blobs = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 1 } });
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`Azurite exited: ${stderr.trim() || "no output"}`);
        await blobs.getProperties();
        return true;
      },
      { timeoutMs: 60_000, description: "Azurite to answer" },
    );
  } catch (error) {
    child.kill("SIGTERM");
    throw error;
  }
  return {
    connectionString,
    blobPort,
    queuePort,
    tablePort,
    pid: child.pid as number,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      // Azurite saves its data on SIGTERM; only one that never finishes is killed (with its guard's group).
      const timer = setTimeout(
        () => {
          try {
            process.kill(options.guarded ? -(child.pid as number) : (child.pid as number), "SIGKILL");
          } catch {
            // already gone
          }
        },
        options.guarded ? 30_000 : 5_000,
      );
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
