import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { downloadProject } from "../../src/cli/download.js";
import {
  api,
  chapterText,
  E2E_TIMEOUT_MS,
  readJsonBlob,
  type Stack,
  startProject,
  startStack,
  uploadChapters,
  waitForRun,
} from "../pipeline/e2eHarness.js";
import { uniqueName } from "../support/names.js";

/** `GET /api/projects`, `GET .../manifest`, `.../progress`, chapter audio and subtitles, on the local stack. */
let stack: Stack;
vi.setConfig({ testTimeout: E2E_TIMEOUT_MS });

beforeAll(async () => {
  stack = await startStack(inject("azuriteConnectionString"), { MAX_CHAPTER_ATTEMPTS: "2" });
});
afterAll(async () => {
  await stack?.stop();
});

async function raw(route: string, headers: Record<string, string> = {}) {
  return fetch(`${stack.api}${route}`, { headers: { "x-functions-key": "any", ...headers } });
}

describe("project read endpoints", () => {
  const projectId = uniqueName("shelf");
  const idle = uniqueName("idle");

  beforeAll(async () => {
    await uploadChapters(stack, projectId, {
      "ch1.txt": chapterText(1),
      "ch2.txt": chapterText(2),
      "ch3.txt": `${chapterText(3)} [[emulator:fail-always]]`,
      "ch4.txt": "",
    });
    await uploadChapters(stack, idle, { "a.txt": chapterText(9) });
  });

  it("lists every project: a never-started one with nulls, a finished one with its run", async () => {
    const before = await api(stack, "GET", "/api/projects");
    expect(before.status).toBe(200);
    expect(before.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          projectId: idle,
          runtimeStatus: null,
          phase: null,
          chapters: { total: 1, succeeded: 0, failed: 0, rejected: 0, unchanged: 0, pending: 1 },
          billableCharacters: 0,
        }),
      ]),
    );
    const usageBefore = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    await waitForRun(stack, projectId);
    const usage = await stack.emulator.usage();
    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);

    const list = await api(stack, "GET", "/api/projects");
    const row = (list.body as unknown as Record<string, unknown>[]).find((p) => p["projectId"] === projectId);
    expect(row).toMatchObject({
      projectId,
      runtimeStatus: "Completed",
      phase: "completed",
      chapters: { total: 4, succeeded: 2, failed: 1, rejected: 1, unchanged: 0, pending: 0 },
      startedAt: manifest.totals.startedAt,
      completedAt: manifest.totals.completedAt,
      billableCharacters: manifest.totals.billableCharacters,
    });
    // Billing: ch1 and ch2 paid once each (batch); ch3 is never billed (fails in batch and realtime).
    const paid = (manifest.chapters as { chapterId: string; characters: number }[])
      .filter((c) => c.chapterId === "ch1" || c.chapterId === "ch2")
      .reduce((n, c) => n + c.characters, 0);
    expect(usage.billableCharacters - usageBefore.billableCharacters).toBe(paid);
    expect(usage.realtimeCharacters - usageBefore.realtimeCharacters).toBe(0);
    expect(row?.["billableCharacters"]).toBe(paid);
    expect((row?.["cost"] as { amount: number } | undefined)?.amount).toBeCloseTo((paid / 1e6) * 15, 4);
  });

  it("returns the manifest as stored, 404 without one, 400 for a bad id", async () => {
    const response = await api(stack, "GET", `/api/projects/${projectId}/manifest`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(await readJsonBlob(stack.audio, `${projectId}/manifest.json`));
    expect((await api(stack, "GET", `/api/projects/${idle}/manifest`)).status).toBe(404);
    const bad = await api(stack, "GET", "/api/projects/Bad_Id/manifest");
    expect(bad.status).toBe(400);
    expect(bad.body["error"]["code"]).toBe("invalid-project-id");
  });

  it("describes the run chapter by chapter with its jobs", async () => {
    const response = await api(stack, "GET", `/api/projects/${projectId}/progress`);
    expect(response.status).toBe(200);
    const view = response.body;
    expect(view["counters"]).toEqual({
      total: 4,
      pending: 0,
      running: 0,
      succeeded: 2,
      unchanged: 0,
      failed: 1,
      rejected: 1,
    });
    const cells = Object.fromEntries(
      (view["chapters"] as { id: string }[]).map((c) => [c.id, c as Record<string, unknown>]),
    );
    expect(cells["ch1"]).toMatchObject({ status: "succeeded", mode: "batch", hasAudio: true });
    expect(cells["ch3"]).toMatchObject({ status: "failed", mode: "realtime", attempts: 3 });
    expect(String(cells["ch3"]?.["reason"])).not.toBe("");
    expect(cells["ch4"]).toMatchObject({ status: "rejected", reason: "empty" });
    const jobs = view["jobs"] as Record<string, unknown>[];
    expect(jobs.length).toBeGreaterThanOrEqual(3); // first job, a retry, the realtime fallback
    for (const job of jobs) {
      expect(job).toMatchObject({ state: "completed" });
      const planned = Date.parse(String(job["plannedAt"]));
      expect(planned).not.toBeNaN();
      expect(Date.parse(String(job["collectingAt"]))).toBeGreaterThanOrEqual(planned);
      expect(Date.parse(String(job["collectedAt"]))).toBeGreaterThanOrEqual(
        Date.parse(String(job["collectingAt"])),
      );
    }
    expect(jobs.map((j) => j["mode"])).toContain("realtime");
    expect(view["billableCharacters"]).toBe(
      (await readJsonBlob(stack.audio, `${projectId}/manifest.json`)).totals.billableCharacters,
    );
    expect((await api(stack, "GET", `/api/projects/${idle}/progress`)).status).toBe(404);
  });

  it("streams a chapter's private audio, whole or by range, and its subtitles as SRT or WebVTT", async () => {
    const stored = await stack.audio.getBlobClient(`${projectId}/ch1.mp3`).downloadToBuffer();
    const whole = await raw(`/api/projects/${projectId}/chapters/ch1/audio`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("audio/mpeg");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(Buffer.from(await whole.arrayBuffer()).equals(stored)).toBe(true);

    const part = await raw(`/api/projects/${projectId}/chapters/ch1/audio`, { range: "bytes=100-199" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${stored.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(stored.subarray(100, 200))).toBe(true);
    const beyond = await raw(`/api/projects/${projectId}/chapters/ch1/audio`, {
      range: `bytes=${stored.length + 10}-`,
    });
    expect(beyond.status).toBe(416);
    // `bytes=-` names no bound: the whole blob, and HEAD answers as GET does.
    const route = `${stack.api}/api/projects/${projectId}/chapters/ch1/audio`;
    const unbounded = { "x-functions-key": "any", range: "bytes=-" };
    expect((await fetch(route, { headers: unbounded })).status).toBe(200);
    const head = await fetch(route, { method: "HEAD", headers: unbounded });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(stored.length));

    expect((await raw(`/api/projects/${projectId}/chapters/ch3/audio`)).status).toBe(404); // failed: no audio
    expect((await raw(`/api/projects/${projectId}/chapters/nope/audio`)).status).toBe(404);

    const srt = await (await stack.audio.getBlobClient(`${projectId}/ch1.srt`).downloadToBuffer()).toString();
    const asSrt = await raw(`/api/projects/${projectId}/chapters/ch1/subtitles`);
    expect(await asSrt.text()).toBe(srt);
    const vtt = await raw(`/api/projects/${projectId}/chapters/ch1/subtitles?format=vtt`);
    expect(vtt.headers.get("content-type")).toMatch(/^text\/vtt/);
    const text = await vtt.text();
    expect(text.startsWith("WEBVTT\n\n1\n00:00:00.")).toBe(true);
    expect(text).not.toMatch(/\d{2}:\d{2}:\d{2},\d{3}/);
  });

  it("downloads what the pipeline stored, then skips it all on a second download", async () => {
    const out = await mkdtemp(join(tmpdir(), "tts-dl-e2e-"));
    try {
      const options = {
        projectId,
        outDir: out,
        blobService: BlobServiceClient.fromConnectionString(inject("azuriteConnectionString")),
        containerName: stack.audio.containerName,
      };
      const first = await downloadProject(options);
      expect(first.downloaded).toEqual([
        "ch1.mp3",
        "ch1.srt",
        "ch1.words.json",
        "ch2.mp3",
        "ch2.srt",
        "ch2.words.json",
        "manifest.json",
      ]);
      expect(first.withoutAudio).toEqual(["ch3", "ch4"]);
      const stored = await stack.audio.getBlobClient(`${projectId}/ch2.mp3`).downloadToBuffer();
      expect((await readFile(join(out, "ch2.mp3"))).equals(stored)).toBe(true);
      const second = await downloadProject(options);
      expect(second.downloaded).toEqual([]);
      expect(second.skipped).toHaveLength(7);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
