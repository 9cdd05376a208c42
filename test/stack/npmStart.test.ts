import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineApiClient } from "../../src/cli/api.js";
import { EXIT_OK, runCli } from "../../src/cli/main.js";
import { azuriteConnectionString } from "../../tools/shared/azurite.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { choosePorts, isPortFree, type StackPorts } from "../../tools/stack/ports.js";
import { captureStream } from "../cli/helpers.js";

/**
 * `npm start` as a user runs it: tools/stack/main.ts as its own process, on ports from the environment,
 * with state in LOCAL_STATE_DIR. Checks the READY line, a SIGKILL mid-run and a resume that pays nothing
 * twice, and a clean SIGTERM stop.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const PROJECT = "salt-ledger-stack";

interface StackProcess {
  child: ChildProcess;
  stdout(): string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let stateDir: string;
let ports: StackPorts;
let running: StackProcess | undefined;

/** Newest modification time (ms) of the files under `dir` that `keep` accepts; 0 when there are none. */
function newestMtime(dir: string, keep: (name: string) => boolean): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && keep(entry.name)) {
      newest = Math.max(
        newest,
        statSync(join(entry.parentPath ?? (entry as { path?: string }).path ?? dir, entry.name)).mtimeMs,
      );
    }
  }
  return newest;
}

function buildAppIfStale(): void {
  // The stack loads the compiled app (package.json main = dist/functions/*.js), as `npm start` does after its
  // build. Other suites build the same files; rebuilding only when sources are newer keeps that overlap rare.
  const sources = Math.max(
    newestMtime(join(repoRoot, "src"), (n) => n.endsWith(".ts")),
    newestMtime(join(repoRoot, "functions"), (n) => n.endsWith(".ts")),
  );
  const built = Math.min(
    newestMtime(join(repoRoot, "dist/functions"), (n) => n.endsWith(".js")),
    newestMtime(join(repoRoot, "dist/src"), (n) => n.endsWith(".js")),
  );
  if (built > sources) return;
  execFileSync(
    process.execPath,
    [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: repoRoot,
      stdio: "inherit",
    },
  );
}

function startStackProcess(): StackProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // The stack must take storage and Speech from its own parts, not from whatever this shell has.
    if (!/^(AzureWebJobsStorage|SPEECH_|EMULATOR_|LOCAL_HOST_|CHAPTERS_|AUDIO_|VIDEO_|WORK_)/.test(k))
      env[k] = v;
  }
  Object.assign(env, {
    LOCAL_STATE_DIR: stateDir,
    FUNCTIONS_PORT: String(ports.host),
    EMULATOR_PORT: String(ports.emulator),
    AZURITE_BLOB_PORT: String(ports.blob),
    AZURITE_QUEUE_PORT: String(ports.queue),
    AZURITE_TABLE_PORT: String(ports.table),
    EMULATOR_TIME_SCALE: "4",
    LOCAL_HOST_TIME_SCALE: "4",
    EMULATOR_AUDIO: "fast",
  });
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "tools/stack/main.ts")], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, output: () => output, exited };
}

async function waitForReady(stack: StackProcess): Promise<void> {
  let gone = false;
  void stack.exited.then(() => {
    gone = true;
  });
  await waitFor(
    () => {
      if (gone) throw new Error(`the stack exited during start-up:\n${stack.output()}`);
      return stack.stdout().includes("\n");
    },
    { timeoutMs: 120_000, intervalMs: 100, description: "the READY line" },
  );
}

async function cli(...argv: string[]) {
  const out = captureStream();
  const err = captureStream();
  const code = await runCli(["--api", `http://localhost:${ports.host}`, ...argv], {
    stdout: out.stream,
    stderr: err.stream,
    env: { AzureWebJobsStorage: azuriteConnectionString(ports.blob, ports.queue, ports.table) },
    cwd: stateDir,
    tty: false,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 250))),
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

beforeAll(async () => {
  buildAppIfStale();
  stateDir = await mkdtemp(join(tmpdir(), "tts-stack-"));
  ports = await choosePorts("free");
});

afterAll(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill("SIGKILL");
    await running.exited;
  }
  await rm(stateDir, { recursive: true, force: true });
});

describe("npm start (tools/stack/main.ts)", () => {
  it("prints exactly one READY line, survives SIGKILL mid-run, resumes without paying twice, stops on SIGTERM", async () => {
    running = startStackProcess();
    await waitForReady(running);
    expect(running.stdout()).toBe(`READY http://localhost:${ports.host}\n`);
    expect(existsSync(join(stateDir, "azurite"))).toBe(true);
    expect(existsSync(join(stateDir, "emulator"))).toBe(true);

    expect((await cli("upload", join(repoRoot, "samples/book"), "--project", PROJECT)).code).toBe(EXIT_OK);
    const estimate = await new PipelineApiClient({ baseUrl: `http://localhost:${ports.host}` }).estimate(
      PROJECT,
    );
    expect(estimate.chapters).toBe(10);
    // Small jobs one at a time, so the run is surely still going when it is killed.
    const started = await cli("start", PROJECT, "--max-chapters-per-job", "2", "--max-concurrent-jobs", "1");
    expect(started.code, started.stderr).toBe(EXIT_OK);

    const api = new PipelineApiClient({ baseUrl: `http://localhost:${ports.host}` });
    await waitFor(
      async () => {
        const s = await api.getStatus(PROJECT);
        return s.chapters.succeeded >= 1 && s.runtimeStatus === "Running";
      },
      { timeoutMs: 90_000, intervalMs: 100, description: "the first chapter" },
    );
    running.child.kill("SIGKILL");
    await running.exited;
    // Azurite runs under the child guard: it goes with the stack, freeing its port.
    await waitFor(() => isPortFree(ports.blob), {
      timeoutMs: 15_000,
      description: "Azurite to end with the stack",
    });

    running = startStackProcess();
    await waitForReady(running);
    expect(running.stdout()).toBe(`READY http://localhost:${ports.host}\n`);
    const watched = await cli("status", PROJECT, "--watch", "--interval", "1");
    expect(watched.code, watched.stderr).toBe(EXIT_OK);
    expect(watched.stdout).toContain("Completed");

    const conn = azuriteConnectionString(ports.blob, ports.queue, ports.table);
    const manifest = JSON.parse(
      (
        await BlobServiceClient.fromConnectionString(conn)
          .getContainerClient("audio")
          .getBlobClient(`${PROJECT}/manifest.json`)
          .downloadToBuffer()
      ).toString("utf8"),
    ) as { chapters: { status: string }[] };
    expect(manifest.chapters.map((c) => c.status)).toEqual(Array(10).fill("succeeded"));
    const queue = QueueServiceClient.fromConnectionString(conn).getQueueClient("video-requests");
    expect((await queue.getProperties()).approximateMessagesCount).toBeGreaterThanOrEqual(10);

    // Nothing paid twice across the kill: the emulator's bill (kept in LOCAL_STATE_DIR) matches the estimate.
    const usage = (await (
      await fetch(`http://127.0.0.1:${ports.emulator}/emulator/usage`, {
        headers: { "Ocp-Apim-Subscription-Key": "local-dev-key" },
      })
    ).json()) as { inputs: number; billableCharacters: number; realtimeCharacters: number };
    expect(usage.inputs).toBe(10);
    expect(usage.billableCharacters + usage.realtimeCharacters).toBe(estimate.billableCharacters);

    running.child.kill("SIGTERM");
    expect(await running.exited).toEqual({ code: 0, signal: null });
    for (const port of Object.values(ports)) expect(await isPortFree(port), `port ${port}`).toBe(true);
    expect(existsSync(join(stateDir, "stack.lock.json"))).toBe(false);
  }, 300_000);
});
