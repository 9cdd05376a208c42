import pMap from "p-map";

/**
 * Runs `task` over `items` with at most `limit` in flight; results in input order. A neutral helper (no
 * storage, no pipeline) over p-map, so every layer may use it: after the first failure no further item is
 * started, and that failure is what the caller gets.
 */
export function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  return pMap(items, task, { concurrency: Math.max(1, Math.floor(limit)) });
}
