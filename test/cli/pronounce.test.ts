import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, runCli } from "../../src/cli/main.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import { captureStream } from "./helpers.js";

const SAMPLE_BOOK = resolve(import.meta.dirname, "../../samples/book");

let dir: string;
let emulator: TestEmulator;
let env: NodeJS.ProcessEnv;
const container = uniqueName("chapters");

async function cli(args: string[]) {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env,
    cwd: dir,
    tty: false,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tts-pronounce-"));
  emulator = await startTestEmulator();
  env = {
    AzureWebJobsStorage: inject("azuriteConnectionString"),
    CHAPTERS_CONTAINER: container,
    SPEECH_ENDPOINT: emulator.url,
    SPEECH_KEY: emulator.key,
  };
});
afterAll(async () => {
  await emulator?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("tts-pipeline pronounce", () => {
  it("suggest lists the demo book's invented names first and writes a starter list", async () => {
    expect((await cli(["upload", SAMPLE_BOOK, "--project", "salt-ledger"])).code).toBe(EXIT_OK);
    const run = await cli(["--json", "pronounce", "suggest", "salt-ledger", "--top", "5"]);
    expect(run.code).toBe(EXIT_OK);
    const result = JSON.parse(run.stdout);
    expect(result.candidates.map((c: { text: string }) => c.text).slice(0, 3)).toEqual([
      "Maren",
      "Skerry Point",
      "Émile Castaing",
    ]);
    expect(result.candidates[0]).toMatchObject({
      chapters: expect.arrayContaining(["chapter-1-the-ledger"]),
    });
    expect(result.candidates[0].count).toBeGreaterThan(10);
    expect(result.candidates).toHaveLength(5);
    const starter = JSON.parse(await readFile(join(dir, "pronunciations.json"), "utf8"));
    expect(starter[1]).toEqual({ text: "Skerry Point", alias: "" });

    // It does not overwrite a list by accident.
    const again = await cli(["pronounce", "suggest", "salt-ledger"]);
    expect(again.code).toBe(EXIT_FAILED);
    expect(again.stderr).toContain("--overwrite");
  });

  it("suggest prints one line per name, counting chapters in words that agree", async () => {
    const run = await cli(["pronounce", "suggest", "salt-ledger", "--top", "5", "--out", "text-run.json"]);
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(run.stdout).toMatch(/Brest {2}\(1 chapter: chapter-2-salt-and-glass\)/);
    expect(run.stdout).toMatch(/Maren {2}\(7 chapters: /);
    expect(run.stdout).not.toContain("(1 chapters");
  });

  it("suggest leaves out names the project already lists", async () => {
    const upload = await cli(["upload", SAMPLE_BOOK, "--project", "salt-listed"]);
    expect(upload.code).toBe(EXIT_OK);
    const { BlobServiceClient } = await import("@azure/storage-blob");
    await BlobServiceClient.fromConnectionString(env["AzureWebJobsStorage"] as string)
      .getContainerClient(container)
      .getBlockBlobClient("salt-listed/pronunciations.json")
      .upload('[{"text":"Maren","alias":"Mah ren"}]', 37);
    const run = await cli(["--json", "pronounce", "suggest", "salt-listed", "--out", "other.json"]);
    const result = JSON.parse(run.stdout);
    expect(result.alreadyListed).toEqual(["Maren"]);
    expect(result.candidates[0].text).toBe("Skerry Point");
  });

  it("try says one sentence with the current list through realtime and saves it", async () => {
    const before = await emulator.usage();
    const run = await cli([
      "--json",
      "pronounce",
      "try",
      "salt-listed",
      "Maren & the keeper of Skerry Point.",
      "--out",
      "try.mp3",
    ]);
    expect(run.code, run.stderr).toBe(EXIT_OK);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      voice: "en-US-AvaMultilingualNeural",
      applied: ["Maren"],
      file: join(dir, "try.mp3"),
    });
    expect(result.ssml).toContain('<sub alias="Mah ren">Maren</sub> &amp; the keeper');
    const audio = await readFile(join(dir, "try.mp3"));
    expect(audio.length).toBe(result.bytes);
    expect(audio.length).toBeGreaterThan(1000);
    const after = await emulator.usage();
    expect(after.requests.realtime - before.requests.realtime).toBe(1);
    expect(after.realtimeCharacters - before.realtimeCharacters).toBe(result.billableCharacters);
  });

  it("try against a local API without Speech settings uses the emulator npm start runs", async () => {
    // README "Using it": `npm start &` then `pronounce try` with nothing else set (storage falls back
    // to Azurite there; Speech falls back to the stack's emulator, EMULATOR_PORT / EMULATOR_KEY).
    const { SPEECH_ENDPOINT: _endpoint, SPEECH_KEY: _key, ...withoutSpeech } = env;
    const before = await emulator.usage();
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await runCli(["pronounce", "try", "salt-listed", "Maren sailed.", "--out", "local.mp3"], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: { ...withoutSpeech, EMULATOR_PORT: new URL(emulator.url).port, EMULATOR_KEY: emulator.key },
      cwd: dir,
      tty: false,
    });
    expect(code, stderr.text()).toBe(EXIT_OK);
    expect((await readFile(join(dir, "local.mp3"))).length).toBeGreaterThan(1000);
    expect((await emulator.usage()).requests.realtime - before.requests.realtime).toBe(1);
  });

  it("try refuses an invalid list, naming the entry, and sends nothing", async () => {
    const { BlobServiceClient } = await import("@azure/storage-blob");
    const body = '[{"text":"Maren"}]';
    await BlobServiceClient.fromConnectionString(env["AzureWebJobsStorage"] as string)
      .getContainerClient(container)
      .getBlockBlobClient("salt-listed/pronunciations.json")
      .upload(body, body.length);
    const before = await emulator.usage();
    const run = await cli(["pronounce", "try", "salt-listed", "Maren."]);
    expect(run.code).toBe(EXIT_FAILED);
    expect(run.stderr).toContain('pronunciations.json entry 0 ("Maren")');
    expect((await emulator.usage()).requests.realtime).toBe(before.requests.realtime);
  });
});
