import { execFile, spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

/** Repository root (this file is test/infra/bicepCli.ts). */
export const repoRoot = resolve(import.meta.dirname, "..", "..");

/** How to call a Bicep CLI: `bicep <verb> …` directly, or the Azure CLI's `az bicep <verb> --file …`. */
export interface BicepCli {
  kind: "bicep" | "az";
  command: string;
  source: string;
}

export type Discovery = { cli: BicepCli } | { cli: undefined; skipReason: string };

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const answers = (command: string, args: string[]): boolean =>
  spawnSync(command, args, { stdio: "ignore", timeout: 60_000 }).status === 0;

/** Where infra/tools/restore-bicep.sh leaves the CLI: the NuGet cache, at the csproj's pinned version. */
export function restoredBicepPath(env: NodeJS.ProcessEnv): string | undefined {
  const project = readFileSync(join(repoRoot, "infra", "tools", "bicep-cli.csproj"), "utf8");
  const version = /<BicepCliVersion>([^<]+)<\/BicepCliVersion>/.exec(project)?.[1];
  if (!version) return undefined;
  const packages = env.NUGET_PACKAGES || join(homedir(), ".nuget", "packages");
  return join(packages, "azure.bicep.commandline.linux-x64", version, "tools", "bicep");
}

/**
 * Finds a Bicep CLI: BICEP_CLI (must work: CI sets it), else the NuGet-restored binary, else `bicep`
 * or `az bicep` on PATH. TTS_SKIP_BICEP_DISCOVERY=1 pretends none exists (a machine without .NET).
 */
export function findBicepCli(env: NodeJS.ProcessEnv = process.env): Discovery {
  if (env.TTS_SKIP_BICEP_DISCOVERY === "1") {
    return { cli: undefined, skipReason: "TTS_SKIP_BICEP_DISCOVERY=1" };
  }
  if (env.BICEP_CLI) {
    if (!isExecutable(env.BICEP_CLI)) {
      throw new Error(`BICEP_CLI=${env.BICEP_CLI} is not an executable file`);
    }
    return { cli: { kind: "bicep", command: env.BICEP_CLI, source: "BICEP_CLI" } };
  }
  const restored = restoredBicepPath(env);
  if (restored && isExecutable(restored)) {
    return {
      cli: { kind: "bicep", command: restored, source: "NuGet cache (infra/tools/restore-bicep.sh)" },
    };
  }
  if (answers("bicep", ["--version"])) return { cli: { kind: "bicep", command: "bicep", source: "PATH" } };
  if (answers("az", ["bicep", "version"])) return { cli: { kind: "az", command: "az", source: "az bicep" } };
  return {
    cli: undefined,
    skipReason:
      "no Bicep CLI found (BICEP_CLI unset, infra/tools/restore-bicep.sh not run, no `bicep` or `az bicep` on PATH)",
  };
}

/** One diagnostic line of the Bicep CLI: `path(line,col) : Warning rule-or-code: message`. */
export interface BicepDiagnostic {
  level: "Error" | "Warning";
  code: string;
  line: string;
}

export function parseDiagnostics(output: string): BicepDiagnostic[] {
  const diagnostics: BicepDiagnostic[] = [];
  for (const line of output.split(/\r?\n/)) {
    const match = /\)\s*:\s*(Error|Warning)\s+([^:\s]+):/.exec(line);
    if (match)
      diagnostics.push({ level: match[1] as "Error" | "Warning", code: match[2]!, line: line.trim() });
  }
  return diagnostics;
}

export interface BicepRun {
  status: number | null;
  output: string;
  diagnostics: BicepDiagnostic[];
}

async function run(cli: BicepCli, args: string[], cwd: string): Promise<BicepRun> {
  const { status, output } = await new Promise<{ status: number | null; output: string }>((done, fail) => {
    execFile(
      cli.command,
      args,
      { cwd, encoding: "utf8", timeout: 180_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === "number" ? error.code : error ? null : 0;
        if (error && code === null) fail(error);
        else done({ status: code, output: `${stdout}\n${stderr}` });
      },
    );
  });
  return { status, output, diagnostics: parseDiagnostics(output) };
}

/** Lints every file (`bicep lint --pattern`, or `az bicep lint --file` one by one). */
export async function lint(cli: BicepCli, files: string[], cwd: string): Promise<BicepRun[]> {
  if (cli.kind === "bicep") return [await run(cli, ["lint", "--pattern", "infra/**/*.bicep"], cwd)];
  return Promise.all(files.map((file) => run(cli, ["bicep", "lint", "--file", file], cwd)));
}

/** Builds every file into outDir (ARM JSON named after each file, folders kept). */
export async function build(
  cli: BicepCli,
  files: string[],
  cwd: string,
  outDir: string,
): Promise<BicepRun[]> {
  if (cli.kind === "bicep") {
    return [await run(cli, ["build", "--pattern", "infra/**/*.bicep", "--outdir", outDir], cwd)];
  }
  return Promise.all(
    files.map((file) =>
      run(
        cli,
        ["bicep", "build", "--file", file, "--outdir", join(outDir, dirname(relative("infra", file)))],
        cwd,
      ),
    ),
  );
}
