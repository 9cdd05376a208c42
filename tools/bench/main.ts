/**
 * `npm run bench -- <scenario> [args]`: runs tools/bench/scenarios/<scenario>.ts `run(args)` and prints one
 * line `BENCH <json>` ({ scenario, ...result }) on stdout. Progress goes to stderr. Exit code 1 on failure
 * or when a run on a scenario's defaults missed the limits set for it (`targetsMissed`, targets.ts), 2 for an
 * unknown scenario (the available ones are listed).
 */
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const scenariosDir = fileURLToPath(new URL("./scenarios/", import.meta.url));

function available(): string[] {
  return readdirSync(scenariosDir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function main(): Promise<number> {
  const [scenario, ...args] = process.argv.slice(2).filter((a, i) => !(i === 0 && a === "--"));
  const names = available();
  if (!scenario || !/^[a-z0-9-]+$/.test(scenario) || !existsSync(`${scenariosDir}${scenario}.ts`)) {
    process.stderr.write(
      `${scenario ? `Unknown scenario "${scenario}".` : "No scenario given."} Usage: npm run bench -- <scenario> [args]\n` +
        `Scenarios: ${names.join(", ")}\n`,
    );
    return 2;
  }
  const module = (await import(pathToFileURL(`${scenariosDir}${scenario}.ts`).href)) as {
    run?: (args: string[]) => Promise<Record<string, unknown>>;
  };
  if (typeof module.run !== "function") {
    process.stderr.write(`Scenario "${scenario}" does not export run(args).\n`);
    return 1;
  }
  try {
    const result = await module.run(args);
    process.stdout.write(`BENCH ${JSON.stringify({ scenario, ...result })}\n`);
    // Limits an issue set for this scenario's defaults (targets.ts): a missed one fails the benchmark.
    const missed = Array.isArray(result["targetsMissed"]) ? (result["targetsMissed"] as string[]) : [];
    if (missed.length > 0) {
      process.stderr.write(`bench ${scenario}: missed its targets: ${missed.join(", ")}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    process.stderr.write(`bench ${scenario} failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

// Exit explicitly: a scenario's leftover timers or sockets must not keep the process alive.
process.exit(await main());
