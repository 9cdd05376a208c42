import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getFreePort } from "../../tools/shared/ports.js";
import { waitFor } from "../../tools/shared/waitFor.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const hostMain = path.join(repoRoot, "tools/local-host/main.ts");

export interface HostProcess {
  url: string;
  port: number;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) and waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Everything the process printed so far. */
  logs(): string;
}

/** Runs the local Functions host as a child process (for end-to-end and crash tests). */
export async function startHostProcess(opts: {
  appDir: string;
  env: Record<string, string>;
  port?: number;
}): Promise<HostProcess> {
  const port = opts.port ?? (await getFreePort());
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", hostMain, "--app", path.resolve(opts.appDir), "--port", String(port)],
    {
      cwd: repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () => {
      if (exited) throw new Error(`The local host exited during start-up:\n${output}`);
      return output.includes(`Local Functions host listening on ${url}`);
    },
    { timeoutMs: 60_000, intervalMs: 50, description: "the local host to listen" },
  ).catch((error: unknown) => {
    if (!exited) child.kill("SIGKILL");
    throw error;
  });
  return {
    url,
    port,
    logs: () => output,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (exited) return;
      child.kill(signal);
      await exit;
    },
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exit;
      clearTimeout(force);
    },
  };
}
