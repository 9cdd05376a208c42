import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../shared/waitFor.js";

const LOCK_FILE = "stack.lock.json";

/** Start time of a process in clock ticks since boot (Linux), to tell a live stack from a reused pid. */
export function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
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

const AZURITE_PID_FILE = "azurite.pid.json";

/** Records the Azurite guard of this stack, so the next start can wait for it to finish saving. */
export function recordAzuritePid(stateDir: string, pid: number): void {
  writeFileSync(join(stateDir, AZURITE_PID_FILE), JSON.stringify({ pid, started: startTicks(pid) }));
}

/**
 * Azurite outlives a killed stack for as long as it takes to save its data (see tools/shared/azurite.ts):
 * the next stack on the same folder waits for it, and ends it only if it never finishes.
 */
export async function waitForPreviousAzurite(stateDir: string, waitMs = 60_000): Promise<void> {
  let pid: number | undefined;
  try {
    const saved = JSON.parse(readFileSync(join(stateDir, AZURITE_PID_FILE), "utf8")) as {
      pid?: unknown;
      started?: unknown;
    };
    if (typeof saved.pid === "number" && startTicks(saved.pid) === saved.started) pid = saved.pid;
  } catch {
    return;
  }
  if (pid === undefined || !isAlive(pid)) return;
  const previous = pid;
  await waitFor(() => !isAlive(previous), {
    timeoutMs: waitMs,
    intervalMs: 100,
    description: `the previous Azurite (pid ${previous}) to save its data and stop`,
  }).catch(() => {
    // Its whole group (guard and Azurite) goes: it would hold the ports and the data folder.
    try {
      process.kill(-previous, "SIGKILL");
    } catch {
      // already gone
    }
  });
}
