/// <reference lib="dom" />
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { chromiumPath, launchChromium } from "../../tools/shared/chromium.js";
import {
  api,
  chapterText,
  E2E_TIMEOUT_MS,
  readJsonBlob,
  type Stack,
  startStack,
  uploadChapters,
  waitForRun,
} from "../pipeline/e2eHarness.js";
import { uniqueName } from "../support/names.js";

/**
 * The dashboard in real headless Chromium on the local stack (Azurite, Speech emulator, local host):
 * start the demo book from the projects page, watch its grid fill, read a failed chapter's reason,
 * play a chapter, cancel a second run. Screenshots go to test-artifacts/dashboard/.
 */
const repoRoot = path.resolve(import.meta.dirname, "../..");
const artifacts = path.join(repoRoot, "test-artifacts", "dashboard");
const WAIT = { timeout: 120_000, polling: 100 } as const;

let stack: Stack;
let browser: Browser;
let page: Page;
const problems: string[] = [];
vi.setConfig({ testTimeout: E2E_TIMEOUT_MS });

const book = uniqueName("salt");
const long = uniqueName("long");
const FAILING = "chapter-11-the-missing-page";
const FUNCTION_KEY = "page-key-123";
/** API calls the pages made without the function key (must stay empty). */
const keyless: string[] = [];

async function shot(name: string) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Finds and clicks in one step: the projects table is redrawn while runs change. */
async function clickNow(selector: string, navigates = false) {
  const click = page.$eval(selector, (element) => (element as HTMLElement).click());
  if (navigates) await Promise.all([page.waitForNavigation(), click]);
  else await click;
}

const phaseOf = (projectId: string) =>
  page.$eval(`tr[data-project="${projectId}"]`, (row) => (row as HTMLElement).dataset["phase"] ?? "");

// `.ci/run` installs the Debian `chromium` package; elsewhere without it, this file says so and skips.
const browserPath = chromiumPath();
if (!browserPath)
  console.warn("Chromium not found (install `chromium` or set CHROMIUM_PATH): browser tests skipped.");

describe.skipIf(!browserPath)("dashboard in Chromium", () => {
  beforeAll(async () => {
    await mkdir(artifacts, { recursive: true });
    stack = await startStack(inject("azuriteConnectionString"), { MAX_CHAPTER_ATTEMPTS: "2" });
    const sample = path.join(repoRoot, "samples", "book");
    const files: Record<string, Buffer | string> = {};
    for (const name of await readdir(sample)) files[name] = await readFile(path.join(sample, name));
    files[`${FAILING}.txt`] = "This page was torn out. [[emulator:fail-always]]";
    await uploadChapters(stack, book, files);
    // One chapter per job, one job at a time: a run that is still going when the test cancels it.
    const longFiles: Record<string, string> = {
      "project.json": JSON.stringify({ maxChaptersPerJob: 1, maxConcurrentJobs: 1 }),
    };
    for (let i = 1; i <= 60; i++) longFiles[`part-${i}.txt`] = chapterText(i, 40);
    await uploadChapters(stack, long, longFiles);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(String(error)));
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (!url.pathname.startsWith("/api/") || url.pathname.startsWith("/api/dashboard/assets/")) return;
      const header = request.headers()["x-functions-key"];
      if (header !== FUNCTION_KEY && url.searchParams.get("code") !== FUNCTION_KEY)
        keyless.push(request.url());
    });
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("serves the pages under a strict Content-Security-Policy", async () => {
    // Opened as on Azure, with the function key in the URL: every API call must carry it.
    const response = await page.goto(`${stack.api}/api/dashboard?code=${FUNCTION_KEY}`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    await page.waitForSelector(`tr[data-project="${book}"]`, WAIT);
    await page.waitForSelector(`tr[data-project="${long}"]`, WAIT);
    expect(await page.$eval(`tr[data-project="${book}"] td`, (td) => td.textContent)).toBe("never run");
    expect(await page.$eval(`tr[data-project="${book}"] a`, (a) => a.getAttribute("href"))).toBe(
      `/api/dashboard/${book}?code=${FUNCTION_KEY}`,
    );
  });

  it("starts the demo book from the projects page after showing its estimate, and the grid fills", async () => {
    const usageBefore = await stack.emulator.usage();
    await clickNow(`button[data-action="start"][data-project="${book}"]`);
    await page.waitForSelector("dialog#confirm[open]", WAIT);
    const cost = await page.$eval("#estimate-cost", (dd) => dd.textContent ?? "");
    expect(cost).toMatch(/^\$0\.\d+/);
    expect(await page.$eval("#confirm-body", (b) => b.textContent)).toContain("11");
    await shot("1-start-estimate");
    await page.click("#confirm-ok");
    await page.waitForFunction(
      (id) => document.querySelector(`tr[data-project="${id}"]`)?.getAttribute("data-phase") !== "",
      WAIT,
      book,
    );

    await clickNow(`tr[data-project="${book}"] a`, true);
    await page.waitForSelector("#grid .cell", WAIT);
    expect(await page.$$eval("#grid .cell", (cells) => cells.length)).toBe(11);
    expect(await page.$eval("#back", (a) => a.getAttribute("href"))).toBe(
      `/api/dashboard?code=${FUNCTION_KEY}`,
    );
    await shot("2-project-running");
    // Filled: every chapter finished (letters S or F), the run completed.
    await page.waitForFunction(() => document.getElementById("run")?.dataset["phase"] === "completed", WAIT);
    await page.waitForFunction(
      () => document.querySelectorAll("#grid .cell.s-succeeded").length === 10,
      WAIT,
    );
    const letters = await page.$$eval("#grid .cell", (cells) => cells.map((c) => c.textContent).join(""));
    expect(letters.split("").sort().join("")).toBe("FSSSSSSSSSS");
    expect(await page.$eval("[data-counter=failed] dd", (d) => d.textContent)).toBe("1");
    await shot("3-project-completed");

    // Billing: the ten chapters once each, the failing one never.
    const manifest = await readJsonBlob(stack.audio, `${book}/manifest.json`);
    const usage = await stack.emulator.usage();
    const paid = manifest.totals.billableCharacters as number;
    expect(manifest.totals).toMatchObject({ succeeded: 10, failed: 1 });
    expect(usage.billableCharacters - usageBefore.billableCharacters).toBe(paid);
    expect(usage.realtimeCharacters - usageBefore.realtimeCharacters).toBe(0);
    expect(await page.$eval("[data-counter=billed] dd", (d) => d.textContent)).toBe(
      paid.toLocaleString("en-US"),
    );
  });

  it("shows a failed chapter's reason under 'failed only'", async () => {
    await page.click("#failed-only");
    await page.waitForFunction(() => document.querySelectorAll("#grid .cell").length === 1, WAIT);
    await page.click("#grid .cell");
    await page.waitForSelector("#detail .reason", WAIT);
    expect(await page.$eval("#detail-chapter", (h) => h.textContent)).toBe(FAILING);
    const reason = await page.$eval("#detail .reason", (r) => r.textContent ?? "");
    const manifest = await readJsonBlob(stack.audio, `${book}/manifest.json`);
    const failed = (manifest.chapters as { chapterId: string; reason: string }[]).find(
      (c) => c.chapterId === FAILING,
    );
    expect(reason).toBe(failed?.reason);
    expect(reason.length).toBeGreaterThan(0);
    await shot("4-failed-reason");
    await page.click("#failed-only");
    await page.waitForFunction(() => document.querySelectorAll("#grid .cell").length === 11, WAIT);
  });

  it("moves through chapters with the keyboard and plays one with its subtitles", async () => {
    await page.focus("#grid");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    const active = await page.$eval("#grid", (g) => g.getAttribute("aria-activedescendant"));
    expect(active).toBe("cell-1");
    expect(await page.$eval("#cell-1", (c) => c.getAttribute("aria-selected"))).toBe("true");
    const label = await page.$eval("#cell-1", (c) => c.getAttribute("aria-label") ?? "");
    expect(await page.$eval("#detail-chapter", (h) => h.textContent)).toBe(label.split(":")[0]);
    expect(label).toMatch(/: Succeeded$/);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => {
      const audio = document.getElementById("audio") as HTMLAudioElement;
      return audio.readyState >= 1 && Number.isFinite(audio.duration) && audio.duration > 0;
    }, WAIT);
    const played = await page.$eval("#audio", (a) => ({
      chapter: (a as HTMLAudioElement).dataset["chapter"],
      duration: (a as HTMLAudioElement).duration,
      error: (a as HTMLAudioElement).error?.code ?? null,
    }));
    expect(played.chapter).toBe(label.split(":")[0]);
    expect(played.error).toBeNull();
    const manifest = await readJsonBlob(stack.audio, `${book}/manifest.json`);
    const entry = (manifest.chapters as { chapterId: string; durationMs: number }[]).find(
      (c) => c.chapterId === played.chapter,
    );
    expect(Math.abs(played.duration * 1000 - (entry?.durationMs ?? 0))).toBeLessThan(1000);
    // The subtitles track loads (WebVTT converted from the stored SRT).
    await page.waitForFunction(() => {
      const track = document.querySelector("#audio track") as HTMLTrackElement | null;
      return track?.readyState === 2 && (track.track.cues?.length ?? 0) > 0;
    }, WAIT);
    await shot("5-playing");
  });

  it("uses colours whose letters keep a 4.5:1 contrast", async () => {
    const ratios = await page.$$eval("#legend .cell", (cells) => {
      const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      const lum = (c: number[]) => {
        const [r, g, b] = c.map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        }) as [number, number, number];
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      return cells.map((cell) => {
        const style = getComputedStyle(cell);
        // Failed cells are striped: the stripes' darker and lighter colours are both checked via the image.
        const image = style.backgroundImage;
        const backgrounds =
          image && image !== "none"
            ? (image.match(/rgb\([^)]+\)/g) ?? []).map(rgb)
            : [rgb(style.backgroundColor)];
        const fg = lum(rgb(style.color));
        return Math.min(
          ...backgrounds.map((bg) => {
            const [hi, lo] = [Math.max(fg, lum(bg)), Math.min(fg, lum(bg))];
            return (hi + 0.05) / (lo + 0.05);
          }),
        );
      });
    });
    expect(ratios).toHaveLength(6);
    for (const ratio of ratios) expect(ratio).toBeGreaterThanOrEqual(4.5);
  });

  it("cancels a second run from its page", async () => {
    const usageBefore = await stack.emulator.usage();
    await page.goto(`${stack.api}/api/dashboard?code=${FUNCTION_KEY}`);
    await page.waitForSelector(`tr[data-project="${book}"]`, WAIT);
    expect(await phaseOf(book)).toBe("completed");
    await clickNow(`button[data-action="start"][data-project="${long}"]`);
    await page.waitForSelector("dialog#confirm[open]", WAIT);
    await page.click("#confirm-ok");
    await page.waitForSelector(`button[data-action="cancel"][data-project="${long}"]`, WAIT);
    await clickNow(`tr[data-project="${long}"] a`, true);
    await page.waitForSelector("#cancel:not([hidden])", WAIT);
    await page.waitForFunction(() => document.querySelectorAll("#timeline rect").length > 0, WAIT);
    // One job at a time: until the cancel, there is always a chapter shown running in its job.
    await page.waitForSelector("#grid .cell.s-running", WAIT);
    const running = await page.$eval("#grid .cell.s-running", (c) => c.getAttribute("aria-label") ?? "");
    expect(running).toMatch(/^part-\d+: Running in job \d+$/);
    await shot("6-second-run");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click("#cancel");
    await page.waitForFunction(() => document.getElementById("run")?.dataset["phase"] === "cancelled", WAIT);
    expect(await page.$eval("#cancel", (b) => (b as HTMLButtonElement).hidden)).toBe(true);
    await shot("7-cancelled");
    const final = await waitForRun(stack, long);
    expect(final["runtimeStatus"]).toBe("Terminated");
    const status = await api(stack, "GET", `/api/projects/${long}/progress`);
    const done = (status.body["chapters"] as { status: string; characters: number }[]).filter(
      (c) => c.status === "succeeded",
    );
    expect(done.length).toBeLessThan(60);
    // Billing: whatever was paid was at most one job (one chapter) beyond what was stored.
    const usage = await stack.emulator.usage();
    const storedCharacters = done.reduce((n, c) => n + c.characters, 0);
    const billed = usage.billableCharacters - usageBefore.billableCharacters;
    expect(billed).toBeGreaterThanOrEqual(storedCharacters);
    expect(usage.inputs - usageBefore.inputs).toBeLessThanOrEqual(done.length + 1);
  });

  it("logged no script errors or CSP violations, and sent the function key on every call", () => {
    expect(problems).toEqual([]);
    expect(keyless).toEqual([]);
  });
});
