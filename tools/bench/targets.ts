/**
 * The limits an issue set for a scenario on its defaults (issue #10: `book-batch` and `book-100`), checked
 * against a run's result. A missed one makes `npm run bench` exit 1 after printing its BENCH line, so a
 * regression shows as a failed benchmark, not only as a number to read. Timings stay out of tests.
 */
export interface Target {
  /** A numeric field of the scenario's result. */
  field: string;
  /** Most it may be (inclusive). */
  max?: number;
  /** What it must equal, or the name of another field it must equal. */
  equals?: number | string;
}

export interface TargetCheck {
  field: string;
  value: number | undefined;
  limit: string;
  met: boolean;
}

export function checkTargets(result: Record<string, unknown>, targets: readonly Target[]): TargetCheck[] {
  const numberAt = (field: string) =>
    typeof result[field] === "number" ? (result[field] as number) : undefined;
  return targets.map((target) => {
    const value = numberAt(target.field);
    if (target.equals !== undefined) {
      const expected = typeof target.equals === "number" ? target.equals : numberAt(target.equals);
      return {
        field: target.field,
        value,
        limit: `= ${typeof target.equals === "number" ? target.equals : `${target.equals} (${expected})`}`,
        met: value !== undefined && value === expected,
      };
    }
    return {
      field: target.field,
      value,
      limit: `≤ ${target.max}`,
      met: value !== undefined && target.max !== undefined && value <= target.max,
    };
  });
}

/**
 * Adds `targets` and `targetsMissed` to a single run's result when it ran on the scenario's defaults (no
 * options but `--warm` and `--out <dir>`): limits are stated for the defaults only.
 */
export function withTargets(
  result: Record<string, unknown>,
  args: readonly string[],
  targets: readonly Target[],
): Record<string, unknown> {
  const options = args.filter((arg, i) => arg !== "--warm" && arg !== "--out" && args[i - 1] !== "--out");
  if (options.length > 0 || "sweep" in result) return result;
  const checks = checkTargets(result, targets);
  return { ...result, targets: checks, targetsMissed: checks.filter((c) => !c.met).map((c) => c.field) };
}
