import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { waitFor } from "../../tools/shared/waitFor.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { type HostProcess, startHostProcess } from "../support/host.js";
import { uniqueName } from "../support/names.js";
import {
  billedBetween,
  buildApp,
  chapterText,
  E2E_TIMEOUT_MS,
  expectBilled,
  readJsonBlob,
} from "./e2eHarness.js";

/**
 * Run lifecycle through a host *process* (so it can be killed): errors, conflicts, realtime mode,
 * cancel, and a crash mid-run. Time runs 20x faster here (not 1000x) so jobs live long enough to be
 * cancelled or outlive a crash.
 */
const TIME_SCALE = 20;
vi.setConfig({ testTimeout: E2E_TIMEOUT_MS });
const repoRoot = path.resolve(import.meta.dirname, "../..");

let emulator: TestEmulator;
let host: HostProcess;
let appDir: string;
let env: Record<string, string>;
const conn = () => inject("azuriteConnectionString");
const names = {
  CHAPTERS_CONTAINER: uniqueName("chapters"),
  AUDIO_CONTAINER: uniqueName("audio"),
  VIDEO_QUEUE: uniqueName("video"),
  WORK_CONTAINER: uniqueName("work"),
};

/** The built app under its own task hub, so this file's host never picks up other files' instances. */
function isolatedApp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "tts-app-"));
  const hostJson = JSON.parse(readFileSync(path.join(repoRoot, "host.json"), "utf8"));
  hostJson.extensions.durableTask.hubName = uniqueName("hub");
  writeFileSync(path.join(dir, "host.json"), JSON.stringify(hostJson));
  writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ type: "module", main: "dist/functions/*.js" }),
  );
  symlinkSync(path.join(repoRoot, "dist"), path.join(dir, "dist"));
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
  mkdirSync(path.join(dir, ".local"), { recursive: true });
  return dir;
}

async function call(method: string, route: string, body?: string) {
  const response = await fetch(`${host.url}${route}`, {
    method,
    headers: body !== undefined ? { "content-type": "application/json" } : {},
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function upload(projectId: string, files: Record<string, string>) {
  const container = BlobServiceClient.fromConnectionString(conn()).getContainerClient(
    names.CHAPTERS_CONTAINER,
  );
  await container.createIfNotExists();
  for (const [name, text] of Object.entries(files)) {
    await container.getBlockBlobClient(`${projectId}/${name}`).upload(text, Buffer.byteLength(text));
  }
}

function status(projectId: string) {
  return call("GET", `/api/projects/${projectId}/synthesis`);
}

async function waitForEnd(projectId: string) {
  return waitFor(
    async () => {
      const s = await status(projectId);
      return ["Completed", "Failed", "Terminated"].includes(String(s.body["runtimeStatus"]))
        ? s.body
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 200, description: `${projectId} to finish` },
  );
}

beforeAll(async () => {
  await buildApp();
  emulator = await startTestEmulator({ timeScale: TIME_SCALE });
  appDir = isolatedApp();
  env = {
    AzureWebJobsStorage: conn(),
    SPEECH_ENDPOINT: emulator.url,
    SPEECH_REALTIME_ENDPOINT: emulator.url,
    SPEECH_KEY: emulator.key,
    LOCAL_HOST_TIME_SCALE: String(TIME_SCALE),
    // Every batch job here continues as new after two polls, so that path runs (also across the crash).
    POLLS_PER_EXECUTION: "2",
    ...names,
  };
  host = await startHostProcess({ appDir, env });
});

afterAll(async () => {
  await host?.stop();
  await emulator?.stop();
  if (appDir) rmSync(appDir, { recursive: true, force: true });
});

describe("HTTP errors", () => {
  it("answers bad requests with the contract's error shape", async () => {
    const projectId = uniqueName("errs");
    await upload(projectId, { "a.txt": "Hello." });
    const cases: [string, string | undefined, string][] = [
      ["/api/projects/Bad_Id/synthesis", "{}", "invalid-project-id"],
      ["/api/projects/ab/synthesis", "{}", "invalid-project-id"],
      [`/api/projects/${projectId}/synthesis`, "{not json", "malformed-json"],
      [`/api/projects/${projectId}/synthesis`, '{"voice":"x","colour":"red"}', "invalid-request"],
      [`/api/projects/${projectId}/synthesis`, '{"mode":"sometimes"}', "invalid-request"],
      [`/api/projects/${projectId}/synthesis`, '{"maxChaptersPerJob":-1}', "invalid-request"],
      [`/api/projects/${projectId}/synthesis`, '{"outputFormat":"mp3-please"}', "invalid-request"],
      [`/api/projects/${projectId}/synthesis`, "[1,2]", "invalid-request"],
    ];
    for (const [route, body, code] of cases) {
      const response = await call("POST", route, body);
      expect(response.status, `${route} ${body}`).toBe(400);
      expect(response.body).toMatchObject({ error: { code, message: expect.any(String) } });
    }
    const unknownField = await call("POST", `/api/projects/${projectId}/synthesis`, '{"colour":"red"}');
    expect(JSON.stringify(unknownField.body)).toContain("colour");
  });

  it("answers 404 for a project without chapters or never started", async () => {
    const projectId = uniqueName("none");
    const start = await call("POST", `/api/projects/${projectId}/synthesis`);
    expect(start.status).toBe(404);
    expect(start.body).toMatchObject({ error: { code: "no-chapters" } });
    expect((await status(projectId)).status).toBe(404);
    expect((await call("GET", `/api/projects/${projectId}/estimate`)).status).toBe(404);
  });
});

describe("runs", () => {
  it("refuses a second start while running (409), and cancel deletes the running batch jobs", async () => {
    const projectId = uniqueName("cancel");
    const files: Record<string, string> = {};
    // Long chapters: each job runs for seconds, so the cancel lands while they are still running.
    for (let i = 1; i <= 6; i++) files[`ch${i}.txt`] = chapterText(i, 3000);
    await upload(projectId, files);
    const before = await emulator.usage();
    const first = await call("POST", `/api/projects/${projectId}/synthesis`, '{"maxChaptersPerJob":2}');
    expect(first.status).toBe(202);
    const second = await call("POST", `/api/projects/${projectId}/synthesis`);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ id: `tts-${projectId}`, statusQueryGetUri: expect.any(String) });

    await waitFor(async () => (await emulator.usage()).jobs >= 1, {
      timeoutMs: 60_000,
      description: "a batch job",
    });
    const cancel = await call("DELETE", `/api/projects/${projectId}/synthesis`);
    expect(cancel.status).toBe(202);
    const final = await waitForEnd(projectId);
    expect(final["runtimeStatus"]).toBe("Terminated");
    expect(final["phase"]).toBe("cancelled");
    // Nothing runs after a cancel, whatever the last published counters said.
    expect(final["jobs"]).toMatchObject({ running: 0 });
    expect(final["realtime"]).toMatchObject({ running: 0 });
    // The Durable status endpoint's customStatus agrees (CONTRACT §3): the run published it before it ended.
    const durable = await call("GET", `/runtime/webhooks/durabletask/instances/tts-${projectId}`);
    expect(durable.status).toBe(200);
    expect(durable.body).toMatchObject({
      runtimeStatus: "Terminated",
      customStatus: { phase: "cancelled", jobs: { running: 0 }, realtime: { running: 0 } },
    });
    // Every job the run created is gone from the service (deleted, not left to run and bill).
    const listed = await fetch(`${emulator.url}/texttospeech/batchsyntheses?api-version=2024-04-01`, {
      headers: { "Ocp-Apim-Subscription-Key": emulator.key },
    });
    const jobs = ((await listed.json()) as { value: { id: string }[] }).value;
    expect(jobs.filter((j) => j.id.includes(projectId.slice(0, 8)))).toEqual([]);
    expect((await emulator.usage()).requests.delete).toBeGreaterThanOrEqual(1);
    // Paid: exactly the inputs of the jobs created before the cancel (three lanes start three 2-chapter
    // jobs at once; no lane went on to another job), nothing through realtime.
    const billed = billedBetween(before, await emulator.usage());
    expect(billed.jobs).toBeGreaterThanOrEqual(1);
    expect(billed.jobs).toBeLessThanOrEqual(3);
    expect(billed).toEqual({ inputs: 2 * billed.jobs, realtime: 0, jobs: billed.jobs });
  });

  it("realtime mode gives the same outputs", async () => {
    const projectId = uniqueName("rt");
    await upload(projectId, { "1.txt": chapterText(1), "2.txt": chapterText(2), "3.txt": chapterText(3) });
    const before = await emulator.usage();
    expect((await call("POST", `/api/projects/${projectId}/synthesis`, '{"mode":"realtime"}')).status).toBe(
      202,
    );
    const final = await waitForEnd(projectId);
    expect(final).toMatchObject({ runtimeStatus: "Completed", chapters: { total: 3, succeeded: 3 } });
    // One realtime request per (short) chapter, no batch job.
    await expectBilled(emulator, before, { inputs: 0, realtime: 3, jobs: 0 });
    const audio = BlobServiceClient.fromConnectionString(conn()).getContainerClient(names.AUDIO_CONTAINER);
    const manifest = await readJsonBlob(audio, `${projectId}/manifest.json`);
    expect(manifest.mode).toBe("realtime");
    for (const c of manifest.chapters) expect(c).toMatchObject({ status: "succeeded", mode: "realtime" });
    for (const id of ["1", "2", "3"]) {
      expect(await audio.getBlobClient(`${projectId}/${id}.mp3`).exists()).toBe(true);
      const srt = (await audio.getBlobClient(`${projectId}/${id}.srt`).downloadToBuffer()).toString("utf8");
      expect(srt).toMatch(/^1\n00:00:\d{2},\d{3} --> /);
    }
  });

  it("completes after the host is killed mid-run, paying for no chapter twice", async () => {
    const projectId = uniqueName("crash");
    const files: Record<string, string> = {};
    for (let i = 1; i <= 6; i++) files[`ch${i}.txt`] = chapterText(i, 700);
    await upload(projectId, files);
    const before = await emulator.usage();
    expect(
      (await call("POST", `/api/projects/${projectId}/synthesis`, '{"maxChaptersPerJob":3}')).status,
    ).toBe(202);
    await waitFor(async () => (await emulator.usage()).jobs - before.jobs >= 1, {
      timeoutMs: 60_000,
      description: "a job",
    });
    await host.kill("SIGKILL");
    host = await startHostProcess({ appDir, env });
    const final = await waitForEnd(projectId);
    expect(final).toMatchObject({ runtimeStatus: "Completed", chapters: { total: 6, succeeded: 6 } });
    await expectBilled(emulator, before, { inputs: 6, realtime: 0, jobs: 2 });
  });
});
