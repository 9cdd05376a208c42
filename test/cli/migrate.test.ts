import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli } from "../../src/cli/main.js";
import type { MigrationReport } from "../../src/cli/migrate.js";
import { sha256Hex } from "../../src/pipeline/planning/chapters.js";
import { uniqueName } from "../support/names.js";
import { captureStream } from "./helpers.js";

const sample = resolve(import.meta.dirname, "../../samples/old-project");
let blobService: BlobServiceClient;
let env: NodeJS.ProcessEnv;
let chaptersName: string;
let audioName: string;

beforeAll(() => {
  const connectionString = inject("azuriteConnectionString");
  blobService = BlobServiceClient.fromConnectionString(connectionString);
  chaptersName = uniqueName("chapters");
  audioName = uniqueName("audio");
  env = {
    AzureWebJobsStorage: connectionString,
    CHAPTERS_CONTAINER: chaptersName,
    AUDIO_CONTAINER: audioName,
  };
});

async function cli(args: string[]) {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(args, { stdout: stdout.stream, stderr: stderr.stream, env, cwd: tmpdir() });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function migrate(dir: string, projectId: string, ...extra: string[]): Promise<MigrationReport> {
  const result = await cli(["--json", "migrate", dir, "--project", projectId, ...extra]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(EXIT_OK);
  return JSON.parse(result.stdout) as MigrationReport;
}

async function listNames(container: string, prefix: string): Promise<string[]> {
  const client = blobService.getContainerClient(container);
  if (!(await client.exists())) return [];
  const names: string[] = [];
  for await (const b of client.listBlobsFlat({ prefix })) names.push(b.name);
  return names.sort();
}

describe("migrate", () => {
  const projectId = uniqueName("old");

  it("dry run: maps the old settings, reports every key and chapter, writes nothing", async () => {
    const report = await migrate(sample, projectId);
    expect(report.applied).toBe(false);
    expect(report.mapped.map((m) => [m.to, m.value])).toEqual([
      ["voice", "en-US-AvaMultilingualNeural"],
      ["outputFormat", "audio-24khz-96kbitrate-mono-mp3"],
      ["mode", "realtime"],
      ["maxChaptersPerJob", 50],
      ["maxConcurrentJobs", 2],
    ]);
    expect(report.unknownKeys).toEqual([
      "azure_config.json: speaking_rate",
      "processing_config.json: azure_processing.retry_attempts",
      "processing_config.json: output_dir",
    ]);
    expect(report.ignoredKeys.map((k) => k.key)).toEqual([
      "azure_config.json: region",
      "azure_config.json: subscription_key",
    ]);
    const outcomes = Object.fromEntries(report.chapters.map((c) => [c.chapterId, c.outcome]));
    expect(outcomes).toEqual({
      "chapter-1": "adopted",
      "chapter-2": "adopted",
      "chapter-3": "adopted",
      "chapter-4": "format-mismatch",
      "chapter-5": "no-audio",
      "chapter-6": "no-audio",
    });
    expect(report.chapters.find((c) => c.chapterId === "chapter-4")?.detail).toMatch(/16000 Hz, 32 kbit\/s/);
    expect(report.audioWithoutText).toEqual(["epilogue.mp3"]);
    expect(report.counts).toMatchObject({
      texts: 6,
      matched: 4,
      adopted: 3,
      formatMismatches: 1,
      audioWithoutText: 1,
    });
    expect(report.projectFile).toEqual({
      voice: "en-US-AvaMultilingualNeural",
      outputFormat: "audio-24khz-96kbitrate-mono-mp3",
      mode: "realtime",
      maxChaptersPerJob: 50,
      maxConcurrentJobs: 2,
      wordBoundaries: false,
    });
    expect(await listNames(chaptersName, `${projectId}/`)).toEqual([]);
    expect(await listNames(audioName, `${projectId}/`)).toEqual([]);
  });

  it("never prints the values of keys it leaves behind", async () => {
    const result = await cli(["migrate", sample, "--project", projectId]);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain("subscription_key: not carried over");
    expect(result.stdout).toContain("UNKNOWN");
    expect(result.stdout).not.toContain("<set in the old tool's environment>");
    expect(result.stdout).not.toContain("westeurope");
  });

  it("--apply uploads texts, adopts matching audio with the planner's metadata; a re-run changes nothing", async () => {
    const report = await migrate(sample, projectId, "--apply");
    expect(report.counts).toMatchObject({ adopted: 3, alreadyCurrent: 0 });
    expect(report.texts).toEqual({ uploaded: 6, unchanged: 0 });
    expect(await listNames(audioName, `${projectId}/`)).toEqual([
      `${projectId}/chapter-1.mp3`,
      `${projectId}/chapter-2.mp3`,
      `${projectId}/chapter-3.mp3`,
    ]);
    const props = await blobService
      .getContainerClient(audioName)
      .getBlobClient(`${projectId}/chapter-2.mp3`)
      .getProperties();
    const text = "Chapter Two. A ship with grey sails waited outside the harbour for three days.\n";
    expect(props.metadata).toMatchObject({
      textsha256: sha256Hex(text),
      voice: "en-US-AvaMultilingualNeural",
      outputformat: "audio-24khz-96kbitrate-mono-mp3",
      chapterid: "chapter-2",
    });
    // espeak-ng's few seconds, read from the MP3 (not estimated from the text).
    expect(Number(props.metadata?.["durationms"])).toBeGreaterThan(1000);
    expect(Number(props.metadata?.["durationms"])).toBeLessThan(15000);
    expect(props.contentType).toBe("audio/mpeg");
    const stored = JSON.parse(
      (
        await blobService
          .getContainerClient(chaptersName)
          .getBlobClient(`${projectId}/project.json`)
          .downloadToBuffer()
      ).toString("utf8"),
    );
    expect(stored).toEqual(report.projectFile);

    const again = await migrate(sample, projectId, "--apply");
    expect(again.counts).toMatchObject({ adopted: 0, alreadyCurrent: 3 });
    expect(again.texts).toEqual({ uploaded: 0, unchanged: 6 });
    expect(again.projectFileChanged).toBe(false);
  });

  it("config sets the mode (and other fields) in project.json, keeping the rest", async () => {
    const result = await cli(["config", projectId, "--mode", "batch", "--max-concurrent-jobs", "4"]);
    expect(result.code).toBe(EXIT_OK);
    const stored = JSON.parse(
      (
        await blobService
          .getContainerClient(chaptersName)
          .getBlobClient(`${projectId}/project.json`)
          .downloadToBuffer()
      ).toString("utf8"),
    );
    expect(stored).toMatchObject({
      mode: "batch",
      maxConcurrentJobs: 4,
      maxChaptersPerJob: 50,
      wordBoundaries: false,
    });
    const flip = await cli(["config", projectId, "--word-boundaries"]);
    expect(flip.code).toBe(EXIT_OK);
    expect(flip.stdout).toContain('"wordBoundaries":true');
    expect((await cli(["config", projectId])).code).toBe(EXIT_USAGE);
    const bad = await cli(["config", projectId, "--format", "audio-nonsense"]);
    expect(bad.code).toBe(EXIT_FAILED);
    expect(bad.stderr).toMatch(/project.json would be invalid: outputFormat/);
  });

  it("a re-run keeps what config changed since; audio of another voice than project.json's is not adopted", async () => {
    const report = await migrate(sample, projectId, "--apply");
    expect(report.projectFileChanged).toBe(false);
    expect(report.projectFile).toMatchObject({ mode: "batch", maxConcurrentJobs: 4, wordBoundaries: true });
    expect(report.notes.join("\n")).toMatch(/keeps mode = "batch"/);

    const other = uniqueName("voice");
    expect((await cli(["config", other, "--voice", "en-GB-SoniaNeural"])).code).toBe(EXIT_OK);
    const mismatched = await migrate(sample, other, "--apply");
    expect(mismatched.counts).toMatchObject({ adopted: 0, voiceMismatches: 3, formatMismatches: 1 });
    expect(mismatched.projectFile).toMatchObject({ voice: "en-GB-SoniaNeural", mode: "realtime" });
    expect(await listNames(audioName, `${other}/`)).toEqual([]);
  });

  it("bad old settings: a clear error and nothing written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tts-migrate-"));
    try {
      await cp(sample, dir, { recursive: true });
      await writeFile(
        join(dir, "processing_config.json"),
        JSON.stringify({ azure_processing: { mode: "parallel" } }),
      );
      const badProject = uniqueName("bad");
      const result = await cli(["migrate", dir, "--project", badProject, "--apply"]);
      expect(result.code).toBe(EXIT_FAILED);
      expect(result.stderr).toMatch(/azure_processing.mode must be "single" or "batch"/);
      expect(await listNames(chaptersName, `${badProject}/`)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
