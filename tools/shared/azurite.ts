import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
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
}

export interface RunningAzurite {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
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
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  const connectionString = azuriteConnectionString(blobPort, queuePort, tablePort);
  const blobs = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 1 } });
  await waitFor(
    async () => {
      if (exited) throw new Error(`Azurite exited: ${stderr.trim()}`);
      await blobs.getProperties();
      return true;
    },
    { timeoutMs: 60_000, description: "Azurite to answer" },
  );
  return {
    connectionString,
    blobPort,
    queuePort,
    tablePort,
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await done;
      clearTimeout(timer);
    },
  };
}
