// Stages exactly what Flex Consumption runs: the compiled app (dist/), host.json, package.json and
// production-only node_modules, in infra/.package/ (azure.yaml `dist`). azd then zips that folder,
// honouring the .funcignore written into it. Run by azd's prepackage hook; also handy by hand:
//   node infra/scripts/stage-package.mjs          stage and print the package's size
// Why a staging folder: zipping the repository root would ship the devDependencies (TypeScript,
// vitest, Azurite, Biome: hundreds of MB) that `npm ci` installs for development.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const stage = join(root, "infra", ".package");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const run = (args, cwd) =>
  execFileSync(npm, args, { cwd, stdio: "inherit", shell: process.platform === "win32" });

run(["run", "build"], root);

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const entry of ["dist", "host.json", "package.json", "package-lock.json"]) {
  const from = join(root, entry);
  if (existsSync(from)) cpSync(from, join(stage, entry), { recursive: true });
}
// The stage already holds only what runs, so its ignore file only drops type declarations. (The
// root .funcignore is written for the repository root: unanchored patterns such as `src/` would
// also drop packages' own folders, e.g. durable-functions/lib/src, from node_modules.)
writeFileSync(join(stage, ".funcignore"), "*.ts\n");
// Production dependencies only, exactly as locked; no install scripts are needed at run time.
run(["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], stage);

function sizeOf(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return { files: 1, bytes: info.size };
  let files = 0;
  let bytes = 0;
  for (const name of readdirSync(path)) {
    const child = sizeOf(join(path, name));
    files += child.files;
    bytes += child.bytes;
  }
  return { files, bytes };
}
const { files, bytes } = sizeOf(stage);
console.log(`staged ${stage}: ${files} files, ${(bytes / 1024 / 1024).toFixed(1)} MB before zip`);
