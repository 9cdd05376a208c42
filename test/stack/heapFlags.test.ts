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

  it("finds the flags on the command line and in NODE_OPTIONS; the last value of a flag wins", () => {
    expect(missingHeapFlags([...STACK_HEAP_FLAGS], "")).toEqual([]);
    expect(missingHeapFlags([], STACK_HEAP_FLAGS.join(" "))).toEqual([]);
    expect(missingHeapFlags(["--import", "tsx"], "")).toEqual([...STACK_HEAP_FLAGS]);
    expect(missingHeapFlags(["--max-semi-space-size=4"], "--max-old-space-size=4096")).toEqual([
      "--max-old-space-size=512",
    ]);
    expect(missingHeapFlags([...STACK_HEAP_FLAGS, "--max-semi-space-size=16"], "")).toEqual([
      "--max-semi-space-size=4",
    ]);
    expect(
      heapFlagsInForce(["--optimize-for-size", "--import", "tsx"], " --max-old-space-size=512 "),
    ).toEqual(["--optimize-for-size", "--max-old-space-size=512"]);
  });
});
