#!/usr/bin/env node
// The CLI is TypeScript compiled by `npm run build` into dist/; this shim only finds and runs it.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "dist", "src", "cli", "main.js");
if (!existsSync(entry)) {
  process.stderr.write(`tts-pipeline: ${entry} is missing. Build it first: (cd ${root} && npm run build)\n`);
  process.exit(2);
}
const { runCli } = await import(pathToFileURL(entry).href);
process.exitCode = await runCli(process.argv.slice(2));
