/**
 * `npm start`: the local stack (Azurite 10000-10002, Speech emulator 7090, Functions host 7071) left running
 * until Ctrl-C or SIGTERM. Prints exactly one line on stdout, `READY http://localhost:7071`, once every part
 * answers; everything else goes to stderr. State lives under LOCAL_STATE_DIR (default .local/), so the next
 * start after any kill resumes running projects.
 */
import { resolve } from "node:path";
import { heapFlagsWarning } from "./heapFlags.js";
import { watchLaunchers } from "./parentWatch.js";
import { type AudioMode, startStack } from "./stack.js";

const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);

function audioModeFromEnv(): AudioMode | undefined {
  const value = process.env["EMULATOR_AUDIO"];
  return value === "speech" || value === "synthetic" || value === "fast" ? value : undefined;
}

async function main(): Promise<void> {
  const stateDir = resolve(process.env["LOCAL_STATE_DIR"] || ".local");
  const port = (name: string) => {
    const value = process.env[name];
    return value ? Number(value) : undefined;
  };
  const wanted = Object.fromEntries(
    Object.entries({
      host: port("FUNCTIONS_PORT"),
      emulator: port("EMULATOR_PORT"),
      blob: port("AZURITE_BLOB_PORT"),
      queue: port("AZURITE_QUEUE_PORT"),
      table: port("AZURITE_TABLE_PORT"),
    }).filter(([, v]) => v !== undefined),
  );
  const heapWarning = heapFlagsWarning();
  if (heapWarning) log(heapWarning);
  log(`state in ${stateDir}`);
  const audioMode = audioModeFromEnv();
  const stack = await startStack({
    stateDir,
    portPolicy: "fixed",
    ports: wanted,
    log,
    ...(audioMode ? { audioMode } : {}),
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping…`);
    const force = setTimeout(() => {
      log("stop took too long; exiting");
      process.exit(1);
    }, 20_000);
    force.unref();
    await stack.stop();
    log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
  watchLaunchers((pid) => {
    if (stopping) return; // a graceful stop is under way (and bounded by its own timer)
    // Our launcher was killed (e.g. SIGKILL on npm): end at once, like it; the next start resumes.
    log(`launcher ${pid} is gone; exiting`);
    process.exit(137);
  });

  log(
    `Speech emulator ${stack.emulatorUrl} (key: EMULATOR_KEY, default local-dev-key), storage: Azurite devstoreaccount1`,
  );
  process.stdout.write(`READY ${stack.apiUrl}\n`);
}

main().catch((error: unknown) => {
  log(`failed to start: ${(error as Error).message}`);
  process.exit(1);
});
