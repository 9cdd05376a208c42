import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../shared/waitFor.js";

const LOCK_FILE = "stack.lock.json";

/** Start time of a process in clock ticks since boot (Linux), to tell a live stack from a reused pid. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLockPid(stateDir: string): number | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(stateDir, LOCK_FILE), "utf8")) as {
      pid?: unknown;
      started?: unknown;
    };
    if (typeof parsed.pid !== "number") return undefined;
    // Same pid, different process start: the pid was reused after the stack died, so the lock is stale.
    if (typeof parsed.started === "string" && startTicks(parsed.pid) !== parsed.started) return undefined;
    return parsed.pid;
  } catch {
    return undefined;
  }
}

/**
 * One stack per state directory: two Azurites on one data folder corrupt it. A lock left by a killed
 * stack is stale once its process is gone; a stack that was just killed gets a few seconds to go away.
 */
export async function acquireStateLock(stateDir: string, waitMs = 15_000): Promise<() => void> {
  const previous = readLockPid(stateDir);
  if (previous !== undefined && previous !== process.pid && isAlive(previous)) {
    await waitFor(() => !isAlive(previous), {
      timeoutMs: waitMs,
      intervalMs: 200,
      description: `the stack (pid ${previous}) that uses ${stateDir} to stop`,
    }).catch(() => {
      throw new Error(
        `Another stack (pid ${previous}) is running with state in ${stateDir}. Stop it (Ctrl-C) or set LOCAL_STATE_DIR to another folder.`,
      );
    });
  }
  const file = join(stateDir, LOCK_FILE);
  writeFileSync(
    file,
    JSON.stringify({
      pid: process.pid,
      started: startTicks(process.pid),
      startedAt: new Date().toISOString(),
    }),
  );
  return () => {
    if (readLockPid(stateDir) === process.pid) rmSync(file, { force: true });
  };
}
