/**
 * Memory and CPU of the whole local stack: this process (host, app, emulator, bench) and every process it
 * started (Azurite, espeak-ng/sox when the emulator speaks), read from Linux /proc. Elsewhere only this
 * process is measured and `available` says so.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks a second of /proc/<pid>/stat utime/stime (USER_HZ; 100 on Linux for every architecture Node runs on). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  name: string;
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const close = text.lastIndexOf(")");
    const name = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    // After the name: state(3) ppid(4) … utime(14) stime(15), numbered from 1 in proc(5).
    return {
      pid,
      ppid: Number(fields[1]),
      name,
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (peak) of one process in kB, from /proc/<pid>/status. */
function readMemory(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
    return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, grandchildren, …). */
function descendants(root: number): ProcStat[] {
  let pids: number[];
  try {
    pids = readdirSync("/proc")
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
  const stats = pids.map(readStat).filter((s): s is ProcStat => s !== undefined);
  const found: ProcStat[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats) {
      if (parents.has(s.ppid) && !parents.has(s.pid)) {
        parents.add(s.pid);
        found.push(s);
        grew = true;
      }
    }
  }
  return found;
}

export interface StackResources {
  /** Peak RSS of this process (host, app, emulator and the bench itself): maxRSS (MB). */
  peakRssOwnMB: number;
  /** Whether /proc could be read (Linux); otherwise only this process is counted. */
  available: boolean;
  /** Highest sampled sum of the RSS of all stack processes at one moment (MB). */
  peakRssSampledMB: number;
  /** Sum of each process's own peak (VmHWM; this process: maxRSS): an upper bound of the stack's peak (MB). */
  peakRssSumOfPeaksMB: number;
  /** Peak RSS per process name (MB); several processes of one name report their highest. */
  peakRssByProcessMB: Record<string, number>;
  /** CPU seconds (user + system) of all stack processes since `start`. */
  cpuSeconds: number;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/**
 * Samples the process tree every `intervalMs` until `stop()`. Processes that ended between samples keep
 * the last values seen (a short-lived espeak-ng run may be missed entirely: it is small). CPU counts from
 * `markStart()` (the run, not the stack's start-up).
 */
export function watchStackResources(intervalMs = 500): {
  markStart(): void;
  /** The latest sample, one line for progress logs. */
  current(): string;
  stop(): StackResources;
} {
  const root = process.pid;
  let ownCpuAtStart = process.cpuUsage();
  const available = readStat(root) !== undefined;
  const children = new Map<number, { name: string; hwmKb: number; cpuSeconds: number; cpuAtStart: number }>();
  let peakSampledKb = 0;
  let last = "";
  // Scanning all of /proc is the costly part (a shared machine runs hundreds of processes): the tree is
  // rescanned every few samples, the known processes' RSS read every time.
  let tree: ProcStat[] = [];
  let samples = 0;
  const sample = () => {
    if (!available) return;
    const ownKb = readMemory(root)?.rssKb ?? 0;
    let sumKb = ownKb;
    const parts: string[] = [];
    tree = samples++ % 10 === 0 ? descendants(root) : tree.map((c) => readStat(c.pid) ?? c);
    for (const child of tree) {
      const memory = readMemory(child.pid);
      if (!memory) continue;
      sumKb += memory.rssKb;
      const known = children.get(child.pid);
      const name = known?.name ?? (/azurite/i.test(commandLine(child.pid)) ? "azurite" : child.name);
      parts.push(`${name} ${Math.round(memory.rssKb / 1024)}`);
      children.set(child.pid, {
        name,
        hwmKb: Math.max(known?.hwmKb ?? 0, memory.hwmKb),
        cpuSeconds: child.cpuSeconds,
        cpuAtStart: known?.cpuAtStart ?? 0,
      });
    }
    peakSampledKb = Math.max(peakSampledKb, sumKb);
    // Diagnostic (`node --expose-gc`): collect first, so the heap figure is what is really retained.
    (globalThis as { gc?: () => void }).gc?.();
    const heap = process.memoryUsage();
    last =
      `RSS MB: this process ${Math.round(ownKb / 1024)} (JS heap ${Math.round(heap.heapUsed / 1048576)}, ` +
      `buffers ${Math.round(heap.arrayBuffers / 1048576)}), ${parts.join(", ")}`;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    current: () => last,
    markStart() {
      samples = 0;
      sample();
      ownCpuAtStart = process.cpuUsage();
      for (const child of children.values()) child.cpuAtStart = child.cpuSeconds;
    },
    stop(): StackResources {
      samples = 0;
      sample();
      clearInterval(timer);
      const ownPeakKb = process.resourceUsage().maxRSS;
      const byName: Record<string, number> = {
        "node (bench, host, app, emulator)": Math.round(ownPeakKb / 1024),
      };
      let sumOfPeaksKb = ownPeakKb;
      let childCpu = 0;
      for (const child of children.values()) {
        sumOfPeaksKb += child.hwmKb;
        childCpu += child.cpuSeconds - child.cpuAtStart;
        byName[child.name] = Math.max(byName[child.name] ?? 0, Math.round(child.hwmKb / 1024));
      }
      const own = process.cpuUsage(ownCpuAtStart);
      return {
        peakRssOwnMB: Math.round(ownPeakKb / 1024),
        available,
        peakRssSampledMB: Math.round(Math.max(peakSampledKb, available ? 0 : ownPeakKb) / 1024),
        peakRssSumOfPeaksMB: Math.round(sumOfPeaksKb / 1024),
        peakRssByProcessMB: byName,
        cpuSeconds: Math.round(((own.user + own.system) / 1e6 + childCpu) * 10) / 10,
      };
    },
  };
}
