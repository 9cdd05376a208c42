import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { waitFor } from "../../tools/shared/waitFor.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const stampFile = path.join(repoRoot, "dist", ".pipeline-build-stamp");

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(full));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Compiles functions/ and src/ into dist/ (the local host loads package.json `main`), unless a build
 * stamped after the newest source already exists, so the e2e files of one run build once. A lock folder
 * keeps test files running in parallel from rewriting dist/ while another one loads it.
 */
export async function buildApp(): Promise<void> {
  const lock = path.join(repoRoot, "dist", ".pipeline-build-lock");
  mkdirSync(path.dirname(lock), { recursive: true });
  await waitFor(
    () => {
      try {
        mkdirSync(lock);
        return true;
      } catch {
        // A lock left by a killed run is stale after two minutes.
        if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000)
          rmSync(lock, { recursive: true, force: true });
        return false;
      }
    },
    { timeoutMs: 180_000, intervalMs: 100, description: "the build lock" },
  );
  try {
    const sources = Math.max(
      newestSourceMs(path.join(repoRoot, "functions")),
      newestSourceMs(path.join(repoRoot, "src")),
    );
    if (existsSync(stampFile) && statSync(stampFile).mtimeMs > sources) return;
    const started = Date.now();
    execFileSync(
      process.execPath,
      [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: repoRoot,
        stdio: "inherit",
      },
    );
    writeFileSync(stampFile, String(started));
    utimesSync(stampFile, new Date(started), new Date(started));
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
