import cliProgress from "cli-progress";
import type { ProjectStatus } from "./api.js";

/** Shows a project's progress: a live bar on a terminal, a few plain lines elsewhere (CI, pipes). */
export interface ProgressView {
  update(status: ProjectStatus): void;
  /** Ends the bar (or prints a last line); idempotent. */
  stop(): void;
}

export interface ProgressViewOptions {
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Defaults to whether the stream is a terminal. */
  tty?: boolean;
  /** Minimum time between plain lines when nothing but the counts changed. */
  plainIntervalMs?: number;
  now?: () => number;
}

/** Chapters that need no more work, whatever the outcome. */
export function chaptersDone(status: ProjectStatus): number {
  const c = status.chapters;
  return c.succeeded + c.failed + c.rejected + c.unchanged;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One readable line, used for non-TTY output and after the bar ends. */
export function describeStatus(status: ProjectStatus): string {
  const c = status.chapters;
  const j = status.jobs;
  const extras = [
    c.unchanged ? `${c.unchanged} unchanged` : "",
    c.rejected ? `${c.rejected} rejected` : "",
    c.failed ? `${c.failed} failed` : "",
  ].filter(Boolean);
  return (
    `${status.runtimeStatus}${status.phase ? ` (${status.phase})` : ""}: ` +
    `chapters ${chaptersDone(status)}/${c.total}${extras.length ? ` [${extras.join(", ")}]` : ""}, ` +
    `jobs ${j.succeeded + j.failed}/${j.submitted} done, ${j.running} running`
  );
}

export function createProgressView(options: ProgressViewOptions = {}): ProgressView {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  const now = options.now ?? Date.now;
  return tty ? barView(stream, now) : plainView(stream, options.plainIntervalMs ?? 5_000, now);
}

/** Time left from the average pace so far; "?" until a chapter is done. */
function etaText(status: ProjectStatus, elapsedMs: number): string {
  const done = chaptersDone(status);
  const remaining = status.chapters.total - done;
  if (remaining <= 0) return "0s";
  return done > 0 ? formatSeconds((elapsedMs / 1000 / done) * remaining) : "?";
}

function barView(stream: NodeJS.WritableStream, now: () => number): ProgressView {
  const startedAt = now();
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        "{bar} {value}/{total} chapters | jobs {jobsDone}/{jobsSubmitted} ({jobsRunning} running) | {phase} | failed {failed} | ETA {etaText}",
      barsize: 28,
      hideCursor: true,
      fps: 5,
      emptyOnZero: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(status) {
      if (stopped) return;
      const payload = {
        jobsDone: status.jobs.succeeded + status.jobs.failed,
        jobsSubmitted: status.jobs.submitted,
        jobsRunning: status.jobs.running,
        phase: status.phase ?? status.runtimeStatus,
        failed: status.chapters.failed,
        etaText: etaText(status, now() - startedAt),
      };
      if (!started) {
        bar.start(status.chapters.total, chaptersDone(status), payload);
        started = true;
        return;
      }
      if (bar.getTotal() !== status.chapters.total) bar.setTotal(status.chapters.total);
      bar.update(chaptersDone(status), payload);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (started) bar.stop();
    },
  };
}

function plainView(stream: NodeJS.WritableStream, intervalMs: number, now: () => number): ProgressView {
  const startedAt = now();
  let lastLineAt = Number.NEGATIVE_INFINITY;
  let lastKey = "";
  let lastPhase: string | undefined;
  let last: ProjectStatus | undefined;
  let lastPrinted = "";
  let stopped = false;
  const print = (status: ProjectStatus) => {
    const elapsed = (now() - startedAt) / 1000;
    const left = etaText(status, now() - startedAt);
    const eta = left === "?" || left === "0s" ? "" : `, ETA ${left}`;
    const line = `[${formatSeconds(elapsed).padStart(6)}] ${describeStatus(status)}${eta}`;
    stream.write(`${line}\n`);
    lastPrinted = describeStatus(status);
    lastLineAt = now();
  };
  return {
    update(status) {
      if (stopped) return;
      last = status;
      const key = describeStatus(status);
      if (key === lastKey) return;
      lastKey = key;
      const phase = `${status.runtimeStatus}/${status.phase ?? ""}`;
      const phaseChanged = phase !== lastPhase;
      lastPhase = phase;
      const finished = chaptersDone(status) === status.chapters.total && status.chapters.total > 0;
      // Counts change constantly on a big book: print them at most every intervalMs, but never hide a phase change.
      if (phaseChanged || finished || now() - lastLineAt >= intervalMs) print(status);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (last && describeStatus(last) !== lastPrinted) print(last);
    },
  };
}
