import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../shared/waitFor.js";

const LOCK_FILE = "stack.lock.json";

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
    const parsed = JSON.parse(readFileSync(join(stateDir, LOCK_FILE), "utf8")) as { pid?: unknown };
    return typeof parsed.pid === "number" ? parsed.pid : undefined;
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
  writeFileSync(file, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
  return () => {
    if (readLockPid(stateDir) === process.pid) rmSync(file, { force: true });
  };
}
