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
  const launchers = ancestorsOf(process.pid);
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
