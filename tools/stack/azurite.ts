import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { BlobServiceClient } from "@azure/storage-blob";
import { azuriteConnectionString } from "../shared/azurite.js";
import { waitFor } from "../shared/waitFor.js";

export interface GuardedAzurite {
  connectionString: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Azurite for the long-running stack: like tools/shared/azurite.ts, but on fixed ports, with its data on disk,
 * and run under child-guard.mjs so it dies with the stack even when the stack is killed with SIGKILL.
 */
export async function startGuardedAzurite(options: {
  location: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
}): Promise<GuardedAzurite> {
  mkdirSync(options.location, { recursive: true });
  const require = createRequire(import.meta.url);
  const azuriteBin = require.resolve("azurite/dist/src/azurite.js");
  const guard = fileURLToPath(new URL("./child-guard.mjs", import.meta.url));
  const args = [
    guard,
    process.execPath,
    azuriteBin,
    "--blobHost",
    "127.0.0.1",
    "--blobPort",
    String(options.blobPort),
    "--queueHost",
    "127.0.0.1",
    "--queuePort",
    String(options.queuePort),
    "--tableHost",
    "127.0.0.1",
    "--tablePort",
    String(options.tablePort),
    "--location",
    options.location,
    "--disableTelemetry",
    "--silent",
    "--skipApiVersionCheck",
    "--loose",
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["pipe", "ignore", "pipe"] });
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
  const connectionString = azuriteConnectionString(options.blobPort, options.queuePort, options.tablePort);
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
    pid: child.pid,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
