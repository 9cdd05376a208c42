import { BlobServiceClient, ContainerSASPermissions } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import { client, decodeWav, ssml, unzip, waitForTerminal } from "./helpers.js";

async function blobBytes(service: BlobServiceClient, container: string, name: string): Promise<Buffer> {
  return service.getContainerClient(container).getBlobClient(name).downloadToBuffer();
}

describe("Speech emulator: destinationContainerUrl (Azurite)", () => {
  let emulator: TestEmulator;
  let service: BlobServiceClient;
  let container: string;
  let sasUrl: string;
  beforeAll(async () => {
    emulator = await startTestEmulator({ audioMode: "synthetic" });
    service = BlobServiceClient.fromConnectionString(inject("azuriteConnectionString"));
    container = uniqueName("speechout");
    const containerClient = service.getContainerClient(container);
    await containerClient.create();
    sasUrl = await containerClient.generateSasUrl({
      permissions: ContainerSASPermissions.parse("racwl"),
      expiresOn: new Date(Date.now() + 3600_000),
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("writes results.zip under destinationPath/id and reports the relative path", async () => {
    const created = await client(emulator).put("to-container", {
      inputKind: "SSML",
      inputs: [{ content: ssml("Written to your container.") }],
      properties: {
        destinationContainerUrl: sasUrl,
        destinationPath: "books/run1",
        wordBoundaryEnabled: true,
      },
    });
    expect(created.status).toBe(201);
    const createdBody = (await created.json()) as { properties: { destinationContainerUrl?: string } };
    // The SAS signature is never echoed.
    expect(JSON.stringify(createdBody)).not.toContain("sig=");
    const job = await waitForTerminal(emulator, "to-container");
    expect(job.status).toBe("Succeeded");
    expect(job.outputs).toEqual({ result: "books/run1/to-container/results.zip" });
    const files = await unzip(await blobBytes(service, container, "books/run1/to-container/results.zip"));
    expect([...files.keys()].sort()).toEqual([
      "0001.debug.json",
      "0001.wav",
      "0001.word.json",
      "summary.json",
    ]);
    expect(decodeWav(files.get("0001.wav") as Buffer).durationMs).toBeGreaterThan(500);
  });

  it("writes the files unpacked when decompressOutputFiles is true", async () => {
    expect(
      (
        await client(emulator).put("unpacked", {
          inputKind: "SSML",
          inputs: [{ content: ssml("One.") }, { content: ssml("Two.") }],
          properties: { destinationContainerUrl: sasUrl, decompressOutputFiles: true },
        })
      ).status,
    ).toBe(201);
    const job = await waitForTerminal(emulator, "unpacked");
    expect(job.outputs).toEqual({ result: "unpacked", summary: "unpacked/summary.json" });
    const names: string[] = [];
    for await (const blob of service.getContainerClient(container).listBlobsFlat({ prefix: "unpacked/" }))
      names.push(blob.name);
    expect(names.sort()).toEqual([
      "unpacked/0001.debug.json",
      "unpacked/0001.wav",
      "unpacked/0002.debug.json",
      "unpacked/0002.wav",
      "unpacked/summary.json",
    ]);
    const summary = JSON.parse((await blobBytes(service, container, "unpacked/summary.json")).toString());
    expect(summary.results).toHaveLength(2);
  });

  it("fails the job when the container cannot be written, without leaking the SAS", async () => {
    const readOnly = await service.getContainerClient(container).generateSasUrl({
      permissions: ContainerSASPermissions.parse("r"),
      expiresOn: new Date(Date.now() + 3600_000),
    });
    expect(
      (
        await client(emulator).put("read-only-target", {
          inputKind: "SSML",
          inputs: [{ content: ssml("Nowhere to go.") }],
          properties: { destinationContainerUrl: readOnly },
        })
      ).status,
    ).toBe(201);
    const job = await waitForTerminal(emulator, "read-only-target");
    expect(job.status).toBe("Failed");
    expect(job.properties.error?.message).toBeTruthy();
    expect(JSON.stringify(job)).not.toContain("sig=");
  });

  it("400 for an expired or malformed container URL", async () => {
    const expired = await service.getContainerClient(container).generateSasUrl({
      permissions: ContainerSASPermissions.parse("racwl"),
      startsOn: new Date(Date.now() - 7200_000),
      expiresOn: new Date(Date.now() - 3600_000),
    });
    for (const destinationContainerUrl of [expired, "not a url"]) {
      const response = await client(emulator).put("bad-target", {
        inputKind: "SSML",
        inputs: [{ content: ssml("Hi.") }],
        properties: { destinationContainerUrl },
      });
      expect(response.status).toBe(400);
      expect(await response.text()).not.toContain("sig=");
    }
  });
});
