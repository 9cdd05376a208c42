import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, runCli } from "../../src/cli/main.js";
import { uniqueName } from "../support/names.js";
import { captureStream } from "./helpers.js";

/** `tts-pipeline download` against Azurite: what it fetches, what it skips, and when it fetches again. */
let connectionString: string;
let audio: ContainerClient;
let out: string;
const projectId = "book-one";
const mp3 = randomBytes(40_000);
const wav = randomBytes(30_000);

function manifestFor(chapters: { chapterId: string; audioBlob: string | null; status: string }[]) {
  return {
    projectId,
    instanceId: `tts-${projectId}`,
    runId: "r1",
    voice: "v",
    outputFormat: "audio-24khz-96kbitrate-mono-mp3",
    mode: "batch",
    wordBoundaries: true,
    status: "completed",
    chapters: chapters.map((c, index) => ({
      ...c,
      index,
      sourceBlob: `${projectId}/${c.chapterId}.txt`,
      characters: 10,
      textSha256: "x",
      reason: c.status === "failed" ? "boom" : null,
      durationMs: 1000,
      sizeBytes: 1,
      batchJobId: null,
      attempts: 1,
      mode: "batch",
    })),
    ignored: [],
    mergedJobs: [1],
    totals: {
      chapters: chapters.length,
      succeeded: 2,
      failed: 1,
      rejected: 0,
      unchanged: 0,
      pending: 0,
      billableCharacters: 20,
      audioDurationMs: 2000,
      batchJobs: 1,
      speechRequests: 1,
      startedAt: "2026-01-01T00:00:00.000Z",
      completedAt: "2026-01-01T00:01:00.000Z",
    },
  };
}

async function putBlob(name: string, body: Buffer, contentType: string) {
  await audio
    .getBlockBlobClient(name)
    .upload(body, body.length, { blobHTTPHeaders: { blobContentType: contentType } });
}

/** Staged blocks: the service keeps no Content-MD5 for the whole blob (as with large streamed audio). */
async function putBlocks(name: string, body: Buffer) {
  const blob = audio.getBlockBlobClient(name);
  const id = Buffer.from("block-0").toString("base64");
  await blob.stageBlock(id, body, body.length);
  await blob.commitBlockList([id]);
}

async function download(...extra: string[]) {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(["--json", "download", projectId, "--out", out, ...extra], {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { AzureWebJobsStorage: connectionString, AUDIO_CONTAINER: audio.containerName },
    cwd: tmpdir(),
  });
  return { code, stderr: stderr.text(), result: code === EXIT_OK ? JSON.parse(stdout.text()) : undefined };
}

beforeAll(async () => {
  connectionString = inject("azuriteConnectionString");
  audio = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(uniqueName("audio"));
  await audio.create();
  out = await mkdtemp(join(tmpdir(), "tts-download-"));
  await putBlob(`${projectId}/ch1.mp3`, mp3, "audio/mpeg");
  await putBlob(
    `${projectId}/ch1.srt`,
    Buffer.from("1\n00:00:00,000 --> 00:00:01,000\nOne\n"),
    "application/x-subrip",
  );
  await putBlob(`${projectId}/ch1.words.json`, Buffer.from("[]"), "application/json");
  await putBlocks(`${projectId}/ch2.wav`, wav);
  await putBlob(`${projectId}/stale.mp3`, Buffer.from("not in the manifest"), "audio/mpeg");
  const manifest = manifestFor([
    { chapterId: "ch1", audioBlob: `${projectId}/ch1.mp3`, status: "succeeded" },
    { chapterId: "ch2", audioBlob: `${projectId}/ch2.wav`, status: "succeeded" },
    { chapterId: "ch3", audioBlob: null, status: "failed" },
  ]);
  await putBlob(`${projectId}/manifest.json`, Buffer.from(JSON.stringify(manifest)), "application/json");
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
  await audio?.deleteIfExists();
});

describe("download", () => {
  it("fetches the manifest's audio, subtitles and word boundaries, and the manifest", async () => {
    const { code, result } = await download();
    expect(code).toBe(EXIT_OK);
    expect(result.downloaded).toEqual(["ch1.mp3", "ch1.srt", "ch1.words.json", "ch2.wav", "manifest.json"]);
    expect(result.withoutAudio).toEqual(["ch3"]);
    expect((await readFile(join(out, "ch1.mp3"))).equals(mp3)).toBe(true);
    expect((await readFile(join(out, "ch2.wav"))).equals(wav)).toBe(true);
    expect(JSON.parse(await readFile(join(out, "manifest.json"), "utf8")).projectId).toBe(projectId);
    expect((await readdir(out)).filter((f) => f.endsWith(".part") || f.startsWith("stale"))).toEqual([]);
  });

  it("skips every file already there with the same size and hash", async () => {
    const before = (await stat(join(out, "ch2.wav"))).mtimeMs;
    const { code, result } = await download();
    expect(code).toBe(EXIT_OK);
    expect(result.downloaded).toEqual([]);
    expect(result.skipped).toEqual(["ch1.mp3", "ch1.srt", "ch1.words.json", "ch2.wav", "manifest.json"]);
    expect((await stat(join(out, "ch2.wav"))).mtimeMs).toBe(before);
  });

  it("fetches again a local file changed at the same size, and a blob replaced since", async () => {
    const tampered = Buffer.from(mp3);
    tampered[100] = (tampered[100] ?? 0) ^ 0xff;
    await writeFile(join(out, "ch1.mp3"), tampered);
    const newWav = randomBytes(wav.length); // same size, no Content-MD5: only the version tells
    await putBlocks(`${projectId}/ch2.wav`, newWav);
    const { result } = await download();
    expect(result.downloaded).toEqual(["ch1.mp3", "ch2.wav"]);
    expect((await readFile(join(out, "ch1.mp3"))).equals(mp3)).toBe(true);
    expect((await readFile(join(out, "ch2.wav"))).equals(newWav)).toBe(true);
  });

  it("fails clearly for a project that has not run", async () => {
    const stderr = captureStream();
    const code = await runCli(["download", "never-run", "--out", out], {
      stdout: captureStream().stream,
      stderr: stderr.stream,
      env: { AzureWebJobsStorage: connectionString, AUDIO_CONTAINER: audio.containerName },
      cwd: tmpdir(),
    });
    expect(code).toBe(EXIT_FAILED);
    expect(stderr.text()).toContain("never-run has no manifest");
  });
});
