import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";

/**
 * Setup file of the `unit` project (vitest.config.ts): unit tests start no processes. Replaces every way of
 * starting one with a function that throws, so a file that belongs to `integration` fails loudly and at once.
 */
const starters = ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const;
const writable = childProcess as unknown as Record<(typeof starters)[number], unknown>;
for (const name of starters) {
  writable[name] = () => {
    throw new Error(
      `child_process.${name} in a unit test: this file starts a process, so it belongs to the integration ` +
        "project (remove it from unitTests in vitest.config.ts).",
    );
  };
}
// `import { spawn } from "node:child_process"` reads the ESM view of the module: bring it up to date.
syncBuiltinESMExports();
