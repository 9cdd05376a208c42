import { Command } from "commander";
import { startLocalHost } from "./index.js";

/** `tsx tools/local-host/main.ts --app <dir> [--port N]`: the local Functions host as its own process. */
const program = new Command()
  .name("local-host")
  .requiredOption("--app <dir>", "function app folder (package.json + host.json)")
  .option(
    "--port <n>",
    "HTTP port (0 = free port)",
    (v) => Number.parseInt(v, 10),
    Number(process.env.LOCAL_HOST_PORT ?? 7071),
  )
  .option("--log-level <level>", "quiet | info | debug", process.env.LOCAL_HOST_LOG_LEVEL ?? "quiet")
  .parse();

const opts = program.opts<{ app: string; port: number; logLevel: string }>();
const logLevel = opts.logLevel === "info" || opts.logLevel === "debug" ? opts.logLevel : "quiet";

try {
  const host = await startLocalHost({ appDir: opts.app, port: opts.port, logLevel });
  process.stdout.write(`Local Functions host listening on ${host.url}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Stopping after ${signal} failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
} catch (error) {
  process.stderr.write(
    `Local Functions host failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
