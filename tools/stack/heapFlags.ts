/**
 * V8 heap settings of every local stack process: `npm start`, `npm run demo` and `npm run bench` launch Node
 * with exactly these (package.json; test/stack/heapFlags.test.ts keeps them in step), so the stack a user
 * starts is the one the bench measures.
 *
 * Why: a book run's live heap is 60–90 MB, but V8 lets the old generation grow to live × a growing factor
 * before its next full collection, and that factor's ceiling depends on the heap's maximum size: 4.0 with the
 * default maximum (4 GB on this machine), scaled down to 1.3–2.0 below 2 GB (v8/v8 src/heap/heap-controller.h
 * and .cc, `MaxGrowingFactor`, kMinSize/kMaxSize 128/1024 MB × the pointer multiplier of 2). With the defaults,
 * three jobs collected at once took the process to 476 MB (heap 293 MB, of which ~80 MB live: `--trace-gc`,
 * docs/cli.md). A 512 MB old generation caps the factor near 1.4 and still leaves 5–6 × the live heap; a 4 MB
 * semi-space (16 MB by default, three of them) keeps the young generation small. Both are allowed in
 * NODE_OPTIONS (`--optimize-for-size`, which the bench used before, is not), so a user can pass them to any
 * other launcher too.
 */
export const STACK_HEAP_FLAGS = ["--max-semi-space-size=4", "--max-old-space-size=512"] as const;

/**
 * The V8 heap flags given to this process, NODE_OPTIONS first, then its command line (which Node reads after
 * NODE_OPTIONS: for a flag given in both, the command line's value is the one in force).
 */
export function heapFlagsInForce(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env["NODE_OPTIONS"] ?? "",
): string[] {
  return [...nodeOptions.split(/\s+/), ...execArgv].filter((a) =>
    /^--(optimize-for-size|max-semi-space-size|max-old-space-size)\b/.test(a),
  );
}

/** Which of {@link STACK_HEAP_FLAGS} this process was started without (none when launched by the npm scripts). */
export function missingHeapFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env["NODE_OPTIONS"] ?? "",
): string[] {
  const inForce = heapFlagsInForce(execArgv, nodeOptions);
  const name = (flag: string) => flag.split("=")[0];
  // The last occurrence wins, as in Node.
  const value = (flag: string) => inForce.filter((f) => name(f) === name(flag)).pop();
  return STACK_HEAP_FLAGS.filter((flag) => value(flag) !== flag);
}

/** One stderr line for a stack started some other way (e.g. `tsx tools/stack/main.ts`): its memory differs. */
export function heapFlagsWarning(): string | undefined {
  const missing = missingHeapFlags();
  return missing.length === 0
    ? undefined
    : `Node runs without ${missing.join(" ")} (npm start, npm run demo and npm run bench pass them): ` +
        "peak memory may be about twice the measured figure (docs/cli.md).";
}
