import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Usage } from "../../tools/emulator/index.js";
import { getFreePort } from "../../tools/shared/ports.js";
import { waitFor } from "../../tools/shared/waitFor.js";
import { API, ssml } from "./helpers.js";

const KEY = "local-dev-key";

/** `npm run emulator`'s entry point in its own process, so the test can SIGKILL it (no graceful stop). */
async function launch(
  stateRoot: string,
): Promise<{ url: string; child: ChildProcess; exited: Promise<unknown> }> {
  const port = await getFreePort();
  const child = spawn(process.execPath, ["--import", "tsx", "tools/emulator/main.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      LOCAL_STATE_DIR: stateRoot,
      EMULATOR_TIME_SCALE: "1000",
      EMULATOR_AUDIO: "fast",
      EMULATOR_RATE_LIMIT: "off",
    },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  await waitFor(() => output.includes("listening"), {
    timeoutMs: 60_000,
    description: "the emulator to listen",
  });
  return { url: `http://127.0.0.1:${port}`, child, exited };
}

const call = (url: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { "Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/json" },
  });

describe("Speech emulator: usage survives SIGKILL", () => {
  const stateRoot = mkdtempSync(join(tmpdir(), "emulator-kill-"));
  afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));

  it("persists every counter before answering, so a killed emulator restarts with the full bill", async () => {
    const first = await launch(stateRoot);
    const texts = ["One input.", "Two inputs, the first.", "Third job.", "Fourth.", "The fifth job here."];
    let inputs = 0;
    try {
      for (const [i, text] of texts.entries()) {
        const contents = i === 1 ? [text, "And the second."] : [text];
        inputs += contents.length;
        const response = await call(first.url, `/texttospeech/batchsyntheses/kill-${i}?${API}`, {
          method: "PUT",
          body: JSON.stringify({ inputKind: "SSML", inputs: contents.map((c) => ({ content: ssml(c) })) }),
        });
        expect(response.status).toBe(201);
        await response.arrayBuffer();
      }
      const got = await call(first.url, `/texttospeech/batchsyntheses/kill-0?${API}`);
      expect(got.status).toBe(200);
      await got.arrayBuffer();
    } finally {
      // No graceful stop: whatever was not on disk when the last answer left is gone.
      first.child.kill("SIGKILL");
      await first.exited;
    }

    const second = await launch(stateRoot);
    try {
      const usage = (await (await call(second.url, "/emulator/usage")).json()) as Usage;
      expect(usage).toMatchObject({
        requests: { create: texts.length, get: 1 },
        jobs: texts.length,
        inputs,
      });
      // Jobs finish (or had finished) exactly once: every input billed, none twice.
      const billed = await waitFor(
        async () => {
          const list = (await (await call(second.url, `/texttospeech/batchsyntheses?${API}`)).json()) as {
            value: { status: string; properties: { billingDetails?: { neuralCharacters: number } } }[];
          };
          if (!list.value.every((job) => job.status === "Succeeded")) return undefined;
          return list.value.reduce(
            (sum, job) => sum + (job.properties.billingDetails?.neuralCharacters ?? 0),
            0,
          );
        },
        { timeoutMs: 30_000, description: "all jobs to succeed" },
      );
      const after = (await (await call(second.url, "/emulator/usage")).json()) as Usage;
      expect(after.billableCharacters).toBe(billed);
      expect(billed).toBeGreaterThan(0);
    } finally {
      second.child.kill("SIGKILL");
      await second.exited;
    }
  }, 120_000);

  it("counts a job whose bill write a kill cut off, once, and not again for the client's retried PUT", async () => {
    const root = mkdtempSync(join(tmpdir(), "emulator-cut-"));
    const body = JSON.stringify({
      inputKind: "SSML",
      inputs: ["Cut between writes.", "Its second input."].map((c) => ({ content: ssml(c) })),
    });
    const put = (url: string) =>
      call(url, `/texttospeech/batchsyntheses/cut-1?${API}`, { method: "PUT", body });
    try {
      const first = await launch(root);
      try {
        const created = await put(first.url);
        expect(created.status).toBe(201);
        await created.arrayBuffer();
      } finally {
        first.child.kill("SIGKILL");
        await first.exited;
      }
      // The state a SIGKILL between the job's write and the bill's leaves: the job on disk, no count.
      const usagePath = join(root, "emulator", "usage.json");
      const saved = JSON.parse(readFileSync(usagePath, "utf8")) as Usage & { countedInstances: string[] };
      expect(saved).toMatchObject({ jobs: 1, inputs: 2 });
      writeFileSync(usagePath, JSON.stringify({ ...saved, jobs: 0, inputs: 0, countedInstances: [] }));

      const second = await launch(root);
      try {
        const retried = await put(second.url);
        expect(retried.status).toBe(201);
        await retried.arrayBuffer();
        const usage = (await (await call(second.url, "/emulator/usage")).json()) as Usage;
        expect(usage).toMatchObject({ jobs: 1, inputs: 2, requests: { create: 2 } });
      } finally {
        second.child.kill("SIGKILL");
        await second.exited;
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
