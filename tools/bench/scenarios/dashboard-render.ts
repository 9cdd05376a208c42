/// <reference lib="dom" />
/**
 * `npm run bench -- dashboard-render [--runs N] [--screenshot file.png]`: the project page
 * (`GET /api/dashboard/{projectId}`, its script and style as the app ships them) rendering a 1,432-chapter
 * run in headless Chromium. The run state is a seed-book manifest mid-run (15 jobs of up to 100 chapters:
 * some collected, three at the service, the rest waiting; a few failed and rejected chapters), turned into
 * the page's read model by the same code as `GET .../progress` (`buildCells`, `throughputOf`).
 *
 * Reports, as medians over fresh page loads: `renderMs` (the page's own render of the view: counters, grid,
 * timeline), `scriptSeconds` (Chromium's ScriptDuration for the whole load: parse, compile, fetch handling,
 * render), `layoutMs`, `updateMs` (a refresh in which 100 cells change), `loadToRenderedMs` (navigation to
 * the first complete render, wall clock). Measured, never asserted.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { projectPage, readAsset, SECURITY_HEADERS } from "../../../src/dashboard/pages.js";
import { buildCells, type JobView, type RunView, throughputOf } from "../../../src/dashboard/runView.js";
import type { Manifest, ManifestChapter } from "../../../src/pipeline/manifest.js";
import type { JobSpec } from "../../../src/pipeline/planning/schema.js";
import { launchChromium } from "../../shared/chromium.js";
import { SEED_BOOK_CHAPTERS } from "../seedBook.js";

const PROJECT_ID = "seed-book";
const PER_JOB = 100;

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A deterministic mid-run state of the seed book, as the read model would build it. */
export function seedRunView(now = new Date("2026-01-01T01:00:00Z")): RunView {
  const start = now.getTime() - 40 * 60_000;
  const at = (minutes: number) => new Date(start + minutes * 60_000).toISOString();
  const jobCount = Math.ceil(SEED_BOOK_CHAPTERS / PER_JOB);
  const collectedJobs = 8;
  const runningJobs = 3;
  const chapters: ManifestChapter[] = [];
  const specs: { spec: JobSpec }[] = [];
  const jobs: JobView[] = [];
  for (let j = 0; j < jobCount; j++) {
    const jobNumber = j + 1;
    const ids: string[] = [];
    for (let k = j * PER_JOB; k < Math.min(SEED_BOOK_CHAPTERS, (j + 1) * PER_JOB); k++) {
      const chapterId = `${String(k + 1).padStart(4, "0")}-chapter`;
      ids.push(chapterId);
      const collected = j < collectedJobs;
      const rejected = k % 211 === 17;
      const failed = collected && !rejected && k % 97 === 5;
      chapters.push({
        chapterId,
        index: k,
        sourceBlob: `${PROJECT_ID}/${chapterId}.txt`,
        characters: 9_000 + ((k * 7919) % 12_000),
        textSha256: "0".repeat(64),
        status: rejected ? "rejected" : failed ? "failed" : collected ? "succeeded" : "pending",
        reason: rejected ? "empty" : failed ? "Synthesis failed for this input (service error)." : null,
        audioBlob: collected && !failed && !rejected ? `${PROJECT_ID}/${chapterId}.mp3` : null,
        durationMs: collected && !failed && !rejected ? 600_000 + ((k * 104729) % 300_000) : null,
        sizeBytes: null,
        batchJobId: collected ? `seed-book-r1-j${jobNumber}-a0` : null,
        attempts: failed ? 3 : collected ? 1 : 0,
        mode: failed ? "realtime" : collected ? "batch" : null,
      });
    }
    specs.push({
      spec: {
        jobNumber,
        mode: "batch",
        inputKind: "PlainText",
        chapters: ids.map((chapterId, i) => ({
          chapterId,
          index: j * PER_JOB + i,
          sourceBlob: `${PROJECT_ID}/${chapterId}.txt`,
          kind: "text",
          characters: 15_000,
          billableCharacters: 15_000,
          textSha256: "0".repeat(64),
          inputBytes: 15_000,
          attempts: 0,
        })),
      },
    });
    const slot = j < collectedJobs ? Math.floor(j / 3) : 3;
    const collected = j < collectedJobs;
    const running = !collected && j < collectedJobs + runningJobs;
    jobs.push({
      jobNumber,
      mode: "batch",
      chapters: ids.length,
      characters: ids.length * 15_000,
      state: collected ? "completed" : running ? "running" : "planned",
      plannedAt: at(0),
      submittedAt: collected || running ? at(slot * 10 + 0.5) : null,
      collectingAt: collected ? at(slot * 10 + 8) : null,
      collectedAt: collected ? at(slot * 10 + 9.5) : null,
    });
  }
  const manifest = { chapters, mergedJobs: [] } as unknown as Manifest;
  const cells = buildCells(undefined, manifest, specs, jobs, []);
  const counters = {
    total: cells.length,
    pending: 0,
    running: 0,
    succeeded: 0,
    unchanged: 0,
    failed: 0,
    rejected: 0,
  };
  for (const c of cells) counters[c.status]++;
  const billable = chapters.filter((c) => c.status === "succeeded").reduce((n, c) => n + c.characters, 0);
  return {
    projectId: PROJECT_ID,
    runId: "r1",
    runtimeStatus: "Running",
    phase: "synthesizing",
    mode: "batch",
    voice: "en-US-AvaMultilingualNeural",
    outputFormat: "audio-24khz-96kbitrate-mono-mp3",
    startedAt: at(0),
    completedAt: null,
    now: now.toISOString(),
    counters,
    billableCharacters: billable,
    cost: {
      amount: Math.round((billable / 1e6) * 15 * 1e4) / 1e4,
      currency: "USD",
      pricePerMillionCharacters: 15,
    },
    throughput: throughputOf(cells, at(0), now.toISOString()),
    chapters: cells,
    jobs,
  };
}

/** The page, its assets and a fixed progress answer, over HTTP (same headers as the app sends). */
async function serve(view: RunView): Promise<{ server: Server; url: string }> {
  const body = JSON.stringify(view);
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const asset = /^\/api\/dashboard\/assets\/([^/]+)$/.exec(url.pathname);
      if (url.pathname === `/api/dashboard/${PROJECT_ID}`) {
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8" });
        res.end(projectPage("/api", PROJECT_ID));
      } else if (asset) {
        const file = await readAsset(asset[1] ?? "");
        if (!file) return void res.writeHead(404).end();
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": file.contentType });
        res.end(file.body);
      } else if (url.pathname === `/api/projects/${PROJECT_ID}/progress`) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(body);
      } else {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const runs = Number(argValue(args, "--runs") ?? 5);
  const screenshot = argValue(args, "--screenshot");
  const view = seedRunView();
  const { server, url } = await serve(view);
  const browser = await launchChromium();
  const samples: {
    renderMs: number;
    scriptSeconds: number;
    layoutMs: number;
    updateMs: number;
    loadMs: number;
  }[] = [];
  let domNodes = 0;
  try {
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 1000 });
      const before = await page.metrics();
      const started = performance.now();
      await page.goto(`${url}/api/dashboard/${PROJECT_ID}`);
      await page.waitForFunction(() => document.body.dataset["rendered"] === "1", { polling: "raf" });
      const loadMs = performance.now() - started;
      const after = await page.metrics();
      const renderMs = await page.evaluate(
        () => performance.getEntriesByName("render")[0]?.duration ?? Number.NaN,
      );
      // A refresh in which 100 chapters move on (pending → running, running → succeeded).
      const update = await page.evaluate((json: string) => {
        const next = JSON.parse(json) as { chapters: { status: string }[] };
        let changed = 0;
        for (const c of next.chapters) {
          if (changed >= 100) break;
          if (c.status === "running") {
            c.status = "succeeded";
            changed++;
          }
        }
        const w = window as unknown as { renderRunView: (v: unknown) => void };
        const t0 = performance.now();
        w.renderRunView(next);
        return performance.now() - t0;
      }, JSON.stringify(view));
      domNodes = await page.evaluate(() => document.getElementsByTagName("*").length);
      samples.push({
        renderMs,
        scriptSeconds: (after.ScriptDuration ?? 0) - (before.ScriptDuration ?? 0),
        layoutMs: ((after.LayoutDuration ?? 0) - (before.LayoutDuration ?? 0)) * 1000,
        updateMs: update,
        loadMs,
      });
      if (screenshot && i === 0) {
        await page.evaluate(() => {
          document.getElementById("grid")?.focus();
        });
        await page.keyboard.press("Home");
        for (let k = 0; k < 5; k++) await page.keyboard.press("ArrowDown");
        await page.screenshot({ path: screenshot, fullPage: true });
      }
      await page.close();
    }
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
  const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
  return {
    chapters: view.chapters.length,
    jobs: view.jobs.length,
    runs,
    renderMs: round(median(samples.map((s) => s.renderMs))),
    scriptSeconds: round(median(samples.map((s) => s.scriptSeconds)), 3),
    layoutMs: round(median(samples.map((s) => s.layoutMs))),
    updateMs: round(median(samples.map((s) => s.updateMs))),
    loadToRenderedMs: round(median(samples.map((s) => s.loadMs))),
    domNodes,
    progressJsonBytes: JSON.stringify(view).length,
  };
}
