import path from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalHost } from "../../local-host/index.js";
import { startAzurite } from "../../shared/azurite.js";
import { waitFor } from "../../shared/waitFor.js";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/host/apps/fanout");

/**
 * host-fanout (CONTRACT §7): the local host runs 1,500 activities fanned out through 15 sub-orchestrations.
 * `--activities N` and `--batches K` change the shape.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const option = (name: string, fallback: number) => {
    const at = args.indexOf(`--${name}`);
    const value = at >= 0 ? Number(args[at + 1]) : Number.NaN;
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  const chapters = option("activities", 1500);
  const batches = option("batches", 15);
  const azurite = await startAzurite();
  const host = await startLocalHost({
    appDir,
    port: 0,
    storageConnectionString: azurite.connectionString,
    logLevel: "quiet",
  });
  try {
    const started = performance.now();
    const response = await fetch(`${host.url}/durabletask/orchestrators/Book/book1`, {
      method: "POST",
      body: JSON.stringify({ chapters, batches }),
    });
    if (response.status !== 202)
      throw new Error(`Starting the orchestration failed: HTTP ${response.status}`);
    const final = await waitFor(
      async () => {
        const status = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/book1`);
        const body = (await status.json()) as { runtimeStatus: string; output: { activities: number } };
        return status.status === 200 ? body : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 25, description: "the fan-out to finish" },
    );
    const wallSeconds = (performance.now() - started) / 1000;
    if (final.runtimeStatus !== "Completed")
      throw new Error(`The orchestration ended ${final.runtimeStatus}`);
    const stats = host.stats();
    return {
      activities: final.output.activities,
      subOrchestrations: batches,
      wallSeconds: Number(wallSeconds.toFixed(2)),
      replayCpuSeconds: Number(stats.replayCpuSeconds.toFixed(3)),
      episodes: stats.episodes,
      historyEventsMax: stats.historyEventsMax,
    };
  } finally {
    await host.stop();
    await azurite.stop();
  }
}
