export type HostLogLevel = "quiet" | "info" | "debug";

const rank: Record<string, number> = {
  trace: 0,
  debug: 1,
  information: 2,
  warning: 3,
  error: 4,
  critical: 5,
  none: 6,
};

/** Host and function logs: quiet shows only errors, info adds information and warnings, debug all. */
export class HostLogger {
  readonly #threshold: number;
  readonly #write: (line: string) => void;

  constructor(
    level: HostLogLevel,
    write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.#threshold = level === "debug" ? 0 : level === "info" ? 2 : 4;
    this.#write = write;
  }

  enabled(level: string): boolean {
    return (rank[level] ?? 2) >= this.#threshold && level !== "none";
  }

  host(level: "debug" | "information" | "warning" | "error", message: string): void {
    if (this.enabled(level))
      this.#write(`[local-host] ${level === "information" ? "" : `${level}: `}${message}`);
  }

  function(functionName: string, level: string, category: string, message: string): void {
    if (!this.enabled(level)) return;
    const tag = category === "system" ? "system" : level;
    this.#write(`[${functionName}] ${tag}: ${message}`);
  }

  /** Always printed (start-up banners that users and tooling rely on). */
  always(message: string): void {
    process.stdout.write(`${message}\n`);
  }
}
