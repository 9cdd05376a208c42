import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/**
 * infra/scripts/smoke-test.sh runs against a live deployment; here azd, az, curl and sleep are stand-ins on PATH
 * (jq is the real one), so its control flow is checked: uploads, start, polling, listing, exit code, and that the
 * function key never reaches the output.
 */
const script = resolve(import.meta.dirname, "../../infra/scripts/smoke-test.sh");
const hasJq = spawnSync("jq", ["--version"]).status === 0;
const KEY = "fn-key-should-never-print-42";
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stubs(realtimeOutcome: "Completed" | "Failed") {
  const dir = mkdtempSync(join(tmpdir(), "smoke-"));
  dirs.push(dir);
  const log = join(dir, "calls.log");
  const write = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  write(
    "azd",
    `cat <<'ENV'
AZURE_FUNCTION_APP_URL="https://func-x.azurewebsites.net"
AZURE_RESOURCE_GROUP="rg-x"
AZURE_FUNCTION_APP_NAME="func-x"
AZURE_STORAGE_ACCOUNT_NAME="stx"
CHAPTERS_CONTAINER="chapters"
AUDIO_CONTAINER="audio"
ENV`,
  );
  write(
    "az",
    `echo "az $*" >> "${log}"
case "$1 $2" in
  "functionapp keys") echo "${KEY}" ;;
  "storage blob") if [ "$3" = list ]; then echo "Name  Bytes"; fi ;;
esac
exit 0`,
  );
  write("sleep", `echo "sleep $*" >> "${log}"`);
  // Each project answers Running once, then its outcome.
  write(
    "curl",
    `args="$*"; url=""; method=GET
while [ $# -gt 0 ]; do case "$1" in -X) method="$2"; shift ;; https://*) url="$1" ;; esac; shift; done
case "$args" in *"x-functions-key: ${KEY}"*) ;; *) echo "no key" >&2; exit 22 ;; esac
echo "curl $method $url" >> "${log}"
project="$(sed -E 's#.*/projects/([^/]+)/.*#\\1#' <<<"$url")"
if [ "$method" = POST ]; then echo '{"id":"tts-'"$project"'"}'; exit 0; fi
count_file="${dir}/$project.polls"; n=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 )); echo $n > "$count_file"
case "$project" in smoke-batch-*) outcome=Completed; ok=2 ;; *) outcome=${realtimeOutcome}; ok=1 ;; esac
[ "$outcome" = Failed ] && ok=0
if [ $n -lt 2 ]; then echo '{"runtimeStatus":"Running","phase":"running","chapters":{"succeeded":0}}';
else echo '{"runtimeStatus":"'$outcome'","phase":"done","chapters":{"succeeded":'$ok'}}'; fi`,
  );
  return { dir, log };
}

function run(dir: string) {
  return spawnSync("bash", [script], {
    encoding: "utf8",
    env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir },
    timeout: 60_000,
  });
}

describe.skipIf(!hasJq)("infra/scripts/smoke-test.sh (stand-ins for azd, az and curl)", () => {
  it("uploads two batch chapters and one realtime chapter, waits for both runs, lists outputs, exits 0", () => {
    const { dir, log } = stubs("Completed");
    const result = run(dir);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("every chapter synthesized");
    expect(`${result.stdout}${result.stderr}`).not.toContain(KEY);
    const calls = readFileSync(log, "utf8").split("\n");
    const uploads = calls.filter((c) => c.startsWith("az storage blob upload"));
    expect(uploads).toHaveLength(3);
    expect(
      uploads.every((c) => c.includes("--auth-mode login") && c.includes("--container-name chapters")),
    ).toBe(true);
    expect(
      calls.filter((c) => /^curl POST .*\/api\/projects\/smoke-(batch|realtime)-\d+\/synthesis$/.test(c)),
    ).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith("sleep"))).toHaveLength(2); // one Running poll per project
    expect(calls.filter((c) => c.startsWith("az storage blob list"))).toHaveLength(2);
  });

  it("exits 1 when a run does not complete, and says so", () => {
    const { dir } = stubs("Failed");
    const result = run(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/1 project\(s\) did not complete/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(KEY);
  });
});
