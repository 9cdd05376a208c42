import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { heapFlagsInForce, missingHeapFlags, STACK_HEAP_FLAGS } from "../../tools/stack/heapFlags.js";

const scripts = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    scripts: Record<string, string>;
  }
).scripts;

describe("the stack's V8 heap flags (tools/stack/heapFlags.ts)", () => {
  // The bench measures the stack a user starts: all three entry points launch Node with the same heap flags.
  it.each([
    ["start", "tools/stack/main.ts"],
    ["demo", "tools/demo/main.ts"],
    ["bench", "tools/bench/main.ts"],
  ])("npm run %s launches Node with exactly STACK_HEAP_FLAGS", (script, entry) => {
    const command = scripts[script] ?? "";
    const launch = command.split("&&").pop()?.trim().split(/\s+/) ?? [];
    expect(launch[0]).toBe("node");
    expect(launch.slice(-3)).toEqual(["--import", "tsx", entry]);
    expect(launch.slice(1, -3)).toEqual([...STACK_HEAP_FLAGS]);
  });

  it("finds the flags in NODE_OPTIONS and on the command line; the command line's value wins, as in Node", () => {
    expect(missingHeapFlags([...STACK_HEAP_FLAGS], "")).toEqual([]);
    expect(missingHeapFlags([], STACK_HEAP_FLAGS.join(" "))).toEqual([]);
    expect(missingHeapFlags(["--import", "tsx"], "")).toEqual([...STACK_HEAP_FLAGS]);
    expect(missingHeapFlags(["--max-semi-space-size=4"], "--max-old-space-size=4096")).toEqual([
      "--max-old-space-size=512",
    ]);
    expect(missingHeapFlags([...STACK_HEAP_FLAGS, "--max-semi-space-size=16"], "")).toEqual([
      "--max-semi-space-size=4",
    ]);
    // `NODE_OPTIONS=--max-old-space-size=100 node --max-old-space-size=600` runs with a 600 MB old generation.
    expect(missingHeapFlags([...STACK_HEAP_FLAGS], "--max-old-space-size=4096")).toEqual([]);
    expect(missingHeapFlags(["--max-old-space-size=4096"], STACK_HEAP_FLAGS.join(" "))).toEqual([
      "--max-old-space-size=512",
    ]);
    expect(
      heapFlagsInForce(["--optimize-for-size", "--import", "tsx"], " --max-old-space-size=512 "),
    ).toEqual(["--max-old-space-size=512", "--optimize-for-size"]);
  });
});
