import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli } from "../../src/cli/main.js";
import type { CompareReport } from "../../src/compare/run.js";
import { launchChromium } from "../../tools/shared/chromium.js";
import { captureStream } from "../cli/helpers.js";
import { uniqueName } from "../support/names.js";
import {
  E2E_TIMEOUT_MS,
  type Stack,
  startProject,
  startStack,
  uploadChapters,
  waitForRun,
} from "./e2eHarness.js";

/**
 * `tts-pipeline compare` on the demo book (samples/book), end to end: batch run through the local host and
 * the Speech emulator, then the CLI synthesizes through realtime into `_compare/`, measures both with ffmpeg
 * and judges. One chapter carries `[[emulator:degrade]]` (its batch audio is 25 % slower).
 */
const book = resolve(import.meta.dirname, "../../samples/book");
const DEGRADED = "chapter-3-the-cartographer";
let stack: Stack;
let connectionString: string;
let outDir: string;
const projectId = uniqueName("compare");

beforeAll(async () => {
  connectionString = inject("azuriteConnectionString");
  stack = await startStack(connectionString);
  outDir = await mkdtemp(join(tmpdir(), "tts-compare-out-"));
  const files: Record<string, Buffer> = {};
  for (const name of await readdir(book)) {
    let bytes = await readFile(join(book, name));
    if (name === `${DEGRADED}.txt`) bytes = Buffer.concat([bytes, Buffer.from("\n[[emulator:degrade]]\n")]);
    files[name] = bytes;
  }
  await uploadChapters(stack, projectId, files);
  expect((await startProject(stack, projectId)).status).toBe(202);
  expect(await waitForRun(stack, projectId)).toMatchObject({
    runtimeStatus: "Completed",
    chapters: { total: 10, succeeded: 10 },
  });
}, E2E_TIMEOUT_MS);

afterAll(async () => {
  await stack?.stop();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

async function cli(args: string[], confirm?: () => Promise<boolean>) {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    cwd: tmpdir(),
    ...(confirm ? { confirm } : {}),
    env: {
      AzureWebJobsStorage: connectionString,
      CHAPTERS_CONTAINER: stack.chapters.containerName,
      AUDIO_CONTAINER: stack.audio.containerName,
      SPEECH_ENDPOINT: stack.emulator.url,
      SPEECH_REALTIME_ENDPOINT: stack.emulator.url,
      SPEECH_KEY: stack.emulator.key,
    },
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const billedShown = (stderr: string) => Number(/(\d+) billable characters/.exec(stderr)?.[1]);

describe("compare end to end", () => {
  it("shows the characters first and synthesizes nothing when not confirmed", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const before = await stack.emulator.usage();
    const refused = await cli(["compare", projectId, "--sample", "2"], async () => false);
    expect(refused.code).toBe(EXIT_USAGE);
    expect(billedShown(refused.stderr)).toBeGreaterThan(0);
    expect(refused.stderr).toMatch(/not confirmed: nothing synthesized/);
    const after = await stack.emulator.usage();
    expect(after.requests.realtime).toBe(before.requests.realtime);
    expect(after.realtimeCharacters).toBe(before.realtimeCharacters);
  });

  it("identical audio passes: exit 0, realtime bill = the characters shown, nothing real overwritten", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const real = await stack.audio.getBlobClient(`${projectId}/chapter-1-the-ledger.mp3`).getProperties();
    const before = await stack.emulator.usage();
    const result = await cli(
      ["compare", projectId, "--chapters", "chapter-1-the-ledger,chapter-5-the-storm-log,chapter-8-letters"],
      async () => true,
    );
    expect(result.stderr).toContain("Compare 3 chapter(s)");
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain("PASS: 3 of 3 chapter(s)");
    const after = await stack.emulator.usage();
    expect(after.realtimeCharacters - before.realtimeCharacters).toBe(billedShown(result.stderr));
    expect(after.inputs).toBe(before.inputs);
    const untouched = await stack.audio
      .getBlobClient(`${projectId}/chapter-1-the-ledger.mp3`)
      .getProperties();
    expect(untouched.etag).toBe(real.etag);
    expect(await stack.audio.getBlobClient(`${projectId}/_compare/chapter-1-the-ledger.mp3`).exists()).toBe(
      true,
    );
  });

  it("flags the degraded chapter (duration), passes the rest; JSON and HTML reports in storage and --out", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const before = await stack.emulator.usage();
    const result = await cli(["--json", "compare", projectId, "--sample", "10", "--yes", "--out", outDir]);
    expect(result.code).toBe(EXIT_FAILED);
    const report = JSON.parse(result.stdout) as CompareReport;
    expect(report.pass).toBe(false);
    expect(report.chapters).toHaveLength(10);
    const failed = report.chapters.filter((c) => !c.pass);
    expect(failed.map((c) => c.chapterId)).toEqual([DEGRADED]);
    const degraded = failed[0] as CompareReport["chapters"][number];
    expect(degraded.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["duration"]);
    expect(degraded.metrics.durationRatio).toBeGreaterThan(1.2);
    for (const chapter of report.chapters) {
      expect(chapter.batch.codec).toBe("mp3");
      expect(chapter.batch.sampleRate).toBe(24000);
      expect(chapter.batch.bitRate).toBe(96000);
      expect(chapter.realtime.integratedLufs).not.toBeNull();
      expect(Math.abs(chapter.metrics.loudnessDiffLu ?? 99)).toBeLessThan(0.5);
      expect(chapter.words?.coverage).toBeGreaterThanOrEqual(0.95);
      expect(chapter.words?.monotonic).toBe(true);
    }
    // The three chapters compared before were reused: only the seven others were synthesized and billed.
    const after = await stack.emulator.usage();
    expect(after.realtimeCharacters - before.realtimeCharacters).toBe(report.billableCharacters);
    expect(after.requests.realtime - before.requests.realtime).toBeGreaterThanOrEqual(7);

    const stored = JSON.parse(
      (await stack.audio.getBlobClient(`${projectId}/_compare/report.json`).downloadToBuffer()).toString(
        "utf8",
      ),
    );
    expect(stored.chapters.map((c: { chapterId: string }) => c.chapterId)).toEqual(
      report.chapters.map((c) => c.chapterId),
    );
    const storedHtml = (
      await stack.audio.getBlobClient(`${projectId}/_compare/report.html`).downloadToBuffer()
    ).toString("utf8");
    expect(storedHtml).toBe(await readFile(join(outDir, "report.html"), "utf8"));
    expect(existsSync(join(outDir, "report.json"))).toBe(true);
  });

  it("the HTML report opens in headless Chromium, its five charts render, a screenshot is taken", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 900 });
      // No network: the page must be self-contained.
      await page.setRequestInterception(true);
      page.on("request", (request) =>
        request.url().startsWith("file:") ? request.continue() : request.abort(),
      );
      await page.goto(`file://${join(outDir, "report.html")}`);
      const boxes = await page.$$eval("svg.chart", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          return { width: box.width, height: box.height, bars: svg.querySelectorAll("rect.bar").length };
        }),
      );
      expect(boxes).toHaveLength(5);
      for (const box of boxes) {
        expect(box.width).toBeGreaterThan(100);
        expect(box.height).toBeGreaterThan(100);
        expect(box.bars).toBeGreaterThanOrEqual(10);
      }
      expect(await page.$eval(".verdict", (e) => e.textContent)).toMatch(/FAIL: 9 of 10/);
      const shot = join(outDir, "report.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
