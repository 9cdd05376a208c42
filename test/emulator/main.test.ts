import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../tools/emulator/config.js";
import { getFreePort } from "../../tools/shared/ports.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { API, SSML_EXAMPLE } from "./helpers.js";

describe("npm run emulator (tools/emulator/main.ts)", () => {
  it("prints its URL, serves the API with state under LOCAL_STATE_DIR/emulator, and exits 0 on SIGTERM", async () => {
    const port = await getFreePort();
    const stateRoot = mkdtempSync(join(tmpdir(), "emulator-main-"));
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "tools/emulator/main.ts"], {
      env: { ...process.env, PORT: String(port), LOCAL_STATE_DIR: stateRoot, EMULATOR_TIME_SCALE: "100" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitFor(() => output.includes("\n"), {
        timeoutMs: 60_000,
        description: "the emulator's first line",
      });
      expect(output.trim()).toBe(`Speech emulator listening on http://127.0.0.1:${port}`);
      const created = await fetch(
        `http://127.0.0.1:${port}/texttospeech/batchsyntheses/main-test-job?${API}`,
        {
          method: "PUT",
          headers: { "Ocp-Apim-Subscription-Key": "local-dev-key", "Content-Type": "application/json" },
          body: JSON.stringify(SSML_EXAMPLE),
        },
      );
      expect(created.status).toBe(201);
      expect(existsSync(join(stateRoot, "emulator", "jobs", "main-test-job.json"))).toBe(true);
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      rmSync(stateRoot, { recursive: true, force: true });
    }
  });
});

describe("Emulator settings", () => {
  it("reads EMULATOR_* variables, with options taking precedence", () => {
    const env = {
      EMULATOR_KEY: "k1",
      EMULATOR_TIME_SCALE: "50",
      EMULATOR_CHARS_PER_SECOND: "1000",
      EMULATOR_MAX_INPUTS: "5",
      EMULATOR_MAX_PAYLOAD_BYTES: "1000",
      EMULATOR_AUDIO: "synthetic",
      EMULATOR_MISSING_STATUS: "204",
      EMULATOR_CONFLICT_STATUS: "400",
      EMULATOR_RATE_LIMIT: "off",
      EMULATOR_TTL_HOURS: "168",
    };
    expect(resolveConfig({ env })).toMatchObject({
      key: "k1",
      timeScale: 50,
      charsPerSecond: 1000,
      maxInputs: 5,
      maxPayloadBytes: 1000,
      audioMode: "synthetic",
      missingJobStatus: 204,
      conflictStatus: 400,
      rateLimit: false,
      defaultTtlHours: 168,
    });
    expect(resolveConfig({ env, timeScale: 2, key: "k2" })).toMatchObject({ timeScale: 2, key: "k2" });
    expect(resolveConfig({ env: {} })).toMatchObject({
      key: "local-dev-key",
      timeScale: 1,
      maxInputs: 10_000,
      maxPayloadBytes: 2 * 1024 * 1024,
      audioMode: "speech",
      missingJobStatus: 404,
      rateLimit: { requests: 100, windowMs: 10_000 },
      defaultTtlHours: 744,
    });
    expect(() => resolveConfig({ env: { EMULATOR_TIME_SCALE: "fast" } })).toThrow();
  });
});
