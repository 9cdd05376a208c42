#!/usr/bin/env node
// The CLI is TypeScript compiled by `npm run build` into dist/; this shim finds and runs it. In a fresh
// checkout (npm ci, no build yet) it runs the TypeScript source through tsx, a dev dependency, instead.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let entry = join(root, "dist", "src", "cli", "main.js");
if (!existsSync(entry)) {
  try {
    const { register } = await import("tsx/esm/api");
    register();
    entry = join(root, "src", "cli", "main.ts");
  } catch {
    process.stderr.write(
      `tts-pipeline: ${entry} is missing. Build it first: (cd ${root} && npm run build)\n`,
    );
    process.exit(2);
  }
}
const { runCli } = await import(pathToFileURL(entry).href);
process.exitCode = await runCli(process.argv.slice(2));
