import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, runCli } from "../../src/cli/main.js";
import { listChapterFiles, uploadProject } from "../../src/cli/upload.js";
import { uniqueName } from "../support/names.js";
import { captureStream } from "./helpers.js";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
let dir: string;
let blobService: BlobServiceClient;
let connectionString: string;

beforeAll(async () => {
  connectionString = inject("azuriteConnectionString");
  blobService = BlobServiceClient.fromConnectionString(connectionString);
  dir = await mkdtemp(join(tmpdir(), "tts-upload-"));
  await writeFile(join(dir, "ch10.txt"), "Ten.");
  await writeFile(join(dir, "ch2.txt"), Buffer.concat([BOM, Buffer.from("Two — “quoted” & <kept>.")]));
  await writeFile(
    join(dir, "ch1.ssml"),
    "<speak version='1.0' xml:lang='en-US'><voice name='v'>One</voice></speak>",
  );
  await writeFile(
    join(dir, "project.json"),
    JSON.stringify({ title: "T", voice: "en-US-AvaMultilingualNeural" }),
  );
  await writeFile(join(dir, "cover.png"), Buffer.from([0x89, 0x50]));
  await writeFile(join(dir, ".DS_Store"), "x");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function blobNames(container: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of blobService.getContainerClient(container).listBlobsFlat({ prefix }))
    names.push(b.name);
  return names;
}

describe("upload", () => {
  it("lists chapter files in natural order and names what it skips", async () => {
    expect(await listChapterFiles(dir)).toEqual({
      files: ["ch1.ssml", "ch2.txt", "ch10.txt", "project.json"],
      skipped: ["cover.png"],
    });
  });

  it("uploads bytes unchanged (BOM included) with content types, into the chapters container", async () => {
    const container = uniqueName("chapters");
    const result = await uploadProject({ dir, projectId: "book-one", blobService, containerName: container });
    expect(result.uploaded).toEqual([
      "book-one/ch1.ssml",
      "book-one/ch2.txt",
      "book-one/ch10.txt",
      "book-one/project.json",
    ]);
    expect(result.skipped).toEqual(["cover.png"]);
    const client = blobService.getContainerClient(container);
    const ch2 = await client.getBlobClient("book-one/ch2.txt").downloadToBuffer();
    expect(ch2.subarray(0, 3)).toEqual(BOM);
    expect(ch2.subarray(3).toString("utf8")).toBe("Two — “quoted” & <kept>.");
    const props = await client.getBlobClient("book-one/ch1.ssml").getProperties();
    expect(props.contentType).toBe("application/ssml+xml; charset=utf-8");
    expect((await client.getBlobClient("book-one/ch10.txt").getProperties()).contentType).toBe(
      "text/plain; charset=utf-8",
    );
  });

  it("--replace removes chapters no longer in the folder; without it they stay", async () => {
    const container = uniqueName("chapters");
    const stale = blobService.getContainerClient(container);
    await stale.createIfNotExists();
    await stale.getBlockBlobClient("book-two/old-chapter.txt").uploadData(Buffer.from("old"));
    await stale.getBlockBlobClient("book-twofold/other.txt").uploadData(Buffer.from("other project"));
    await uploadProject({ dir, projectId: "book-two", blobService, containerName: container });
    expect(await blobNames(container, "book-two/")).toContain("book-two/old-chapter.txt");
    const result = await uploadProject({
      dir,
      projectId: "book-two",
      blobService,
      containerName: container,
      replace: true,
    });
    expect(result.deleted).toEqual(["book-two/old-chapter.txt"]);
    expect(await blobNames(container, "book-two/")).toHaveLength(4);
    expect(await blobNames(container, "book-twofold/")).toEqual(["book-twofold/other.txt"]);
  });

  it("refuses a folder without chapters and an invalid project.json", async () => {
    const empty = await mkdtemp(join(tmpdir(), "tts-upload-empty-"));
    try {
      await expect(uploadProject({ dir: empty, projectId: "book-three", blobService })).rejects.toThrow(
        /No chapters/,
      );
      await writeFile(join(empty, "a.txt"), "A");
      await writeFile(join(empty, "project.json"), "{ not json");
      await expect(uploadProject({ dir: empty, projectId: "book-three", blobService })).rejects.toThrow(
        /project\.json is not valid JSON/,
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("the upload command reads AzureWebJobsStorage and CHAPTERS_CONTAINER, and never prints the key", async () => {
    const container = uniqueName("chapters");
    const out = captureStream();
    const err = captureStream();
    const code = await runCli(["upload", dir, "--project", "book-four"], {
      stdout: out.stream,
      stderr: err.stream,
      env: { AzureWebJobsStorage: connectionString, CHAPTERS_CONTAINER: container },
      cwd: dir,
      tty: false,
    });
    expect(code).toBe(EXIT_OK);
    expect(out.text()).toContain(`Uploaded 4 file(s)`);
    expect(out.text()).toContain(`to ${container}/book-four/ on devstoreaccount1`);
    expect(out.text()).toContain("Skipped (not chapters): cover.png");
    const accountKey = /AccountKey=([^;]+)/.exec(connectionString)![1]!;
    expect(out.text() + err.text()).not.toContain(accountKey);
    expect(await blobNames(container, "book-four/")).toHaveLength(4);
  });

  it("the upload command fails clearly on a missing folder", async () => {
    const err = captureStream();
    const code = await runCli(["upload", join(dir, "nope"), "--project", "book-five"], {
      stdout: captureStream().stream,
      stderr: err.stream,
      env: { AzureWebJobsStorage: connectionString },
      tty: false,
    });
    expect(code).toBe(EXIT_FAILED);
    expect(err.text()).toMatch(/error: Cannot read folder .*nope: ENOENT/);
  });
});
