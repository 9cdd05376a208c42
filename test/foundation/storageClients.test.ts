import { describe, expect, it } from "vitest";
import { resolveStorage } from "../../src/cli/storage.js";
import { createStorageClients } from "../../src/storage/clients.js";

const names = { CHAPTERS_CONTAINER: "chapters", AUDIO_CONTAINER: "audio", VIDEO_QUEUE: "video-requests" };

describe("storage account selection, shared by the app and the CLI", () => {
  it("derives identity-based Blob and Queue endpoints from AzureWebJobsStorage__accountName", () => {
    const clients = createStorageClients({ ...names, AzureWebJobsStorage__accountName: "ttsbooks" });
    expect(clients.chapters.url).toBe("https://ttsbooks.blob.core.windows.net/chapters");
    expect(clients.videoQueue.url).toBe("https://ttsbooks.queue.core.windows.net/video-requests");
  });

  it("derives the Queue endpoint from an explicit Blob service URI", () => {
    const clients = createStorageClients({
      ...names,
      AzureWebJobsStorage__blobServiceUri: "https://other.blob.core.windows.net",
    });
    expect(clients.videoQueue.url).toBe("https://other.queue.core.windows.net/video-requests");
  });

  it("refuses to guess when nothing is configured", () => {
    expect(() => createStorageClients(names)).toThrow(/AzureWebJobsStorage/);
  });

  it("the CLI reaches the same account and never prints the connection string", () => {
    const identity = resolveStorage(
      { AzureWebJobsStorage__accountName: "ttsbooks" },
      { cwd: "/nonexistent" },
    );
    expect(identity.blobService.url).toBe("https://ttsbooks.blob.core.windows.net/");
    expect(identity.description).toBe("https://ttsbooks.blob.core.windows.net (Entra ID)");
    const keyed = resolveStorage(
      {
        AzureWebJobsStorage:
          "DefaultEndpointsProtocol=https;AccountName=ttsbooks;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net",
      },
      { cwd: "/nonexistent" },
    );
    expect(keyed.description).toBe("ttsbooks");
    expect(keyed.description).not.toContain("c2VjcmV0");
  });
});
