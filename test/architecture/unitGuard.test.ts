import childProcess, { execFileSync, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

// Runs in the `unit` project (vitest.config.ts), whose setup file is test/support/unitGuard.ts.
describe("the unit project", () => {
  it("refuses to start a process, through the named imports and the module object alike", () => {
    expect(() => spawn(process.execPath, ["--version"])).toThrow(/belongs to the integration project/);
    expect(() => execFileSync(process.execPath, ["--version"])).toThrow(/belongs to the integration project/);
    expect(() => childProcess.fork("nothing.js")).toThrow(/belongs to the integration project/);
  });

  it("has no Azurite: the integration project's global setup did not run", async () => {
    const { inject } = await import("vitest");
    expect(inject("azuriteConnectionString")).toBeUndefined();
  });
});
