import { readFileSync } from "node:fs";

/** Parent pid and state letter of a process from /proc (Linux); undefined elsewhere or when it is gone. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: parse after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "?", ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

function ancestorsOf(pid: number): number[] {
  const chain: number[] = [];
  let current = procStat(pid)?.ppid;
  while (current && current > 1 && chain.length < 32) {
    chain.push(current);
    current = procStat(current)?.ppid;
  }
  return chain;
}

/** Whether a process is npm or npx itself (by its program, not by any argument: `sh -c "npm …"` is not). */
function isNpm(pid: number): boolean {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 ]+/);
  } catch {
    return false;
  }
  const base = (arg: string | undefined) => (arg ?? "").split("/").pop() ?? "";
  const program = base(args[0]);
  if (program === "npm" || program === "npx") return true;
  return program.startsWith("node") && /^(npm|npx)(-cli\.js)?$/.test(base(args[1]));
}

/**
 * The processes that launched us: ancestors up to and including the nearest npm/npx (npm → sh → tsx → node),
 * else just the parent. Shells and terminals above npm are not watched, so `nohup npm start &` outlives its shell.
 */
function launchersOf(pid: number): number[] {
  const ancestors = ancestorsOf(pid);
  const npmIndex = ancestors.findIndex(isNpm);
  return npmIndex >= 0 ? ancestors.slice(0, npmIndex + 1) : ancestors.slice(0, 1);
}

function isGone(pid: number): boolean {
  const stat = procStat(pid);
  if (stat) return stat.state === "Z" || stat.state === "X";
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * Calls `onOrphaned` once when any process that launched us is gone. `npm start` runs
 * npm → sh → tsx → node: when npm is killed with SIGKILL the rest would live on holding the ports,
 * so the stack watches its launchers and ends with them.
 */
export function watchLaunchers(onOrphaned: (pid: number) => void, intervalMs = 500): () => void {
  const initialParent = process.ppid;
  const launchers = launchersOf(process.pid);
  if (launchers.length === 0 && initialParent > 1) launchers.push(initialParent);
  const timer = setInterval(() => {
    const gone = process.ppid !== initialParent ? initialParent : launchers.find(isGone);
    if (gone !== undefined) {
      clearInterval(timer);
      onOrphaned(gone);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
