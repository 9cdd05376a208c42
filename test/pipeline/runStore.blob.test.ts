import { BlobServiceClient } from "@azure/storage-blob";
import { describe, expect, inject, it } from "vitest";
import { createBlobRunStore } from "../../src/pipeline/blobRunStore.js";
import { runPaths } from "../../src/pipeline/runState.js";
import { readJson, writeJson } from "../../src/storage/blobs.js";
import { uniqueName } from "../support/names.js";
import { runStoreContract } from "./runStoreContract.js";

// The deployed run store on Azurite, against the same contract as the in-memory one (runStore.memory.test.ts).
const service = () => BlobServiceClient.fromConnectionString(inject("azuriteConnectionString"));
runStoreContract("Blob storage (Azurite)", () =>
  createBlobRunStore(service().getContainerClient(uniqueName("work")), service()),
);

describe("the Blob run store keeps the work container's layout (runState.ts, CONTRACT §2)", () => {
  it("writes each record at its runPaths blob, and reads what earlier versions wrote there", async () => {
    const work = service().getContainerClient(uniqueName("work"));
    const store = createBlobRunStore(work, service());
    const run = { projectId: "book", runId: "r1" };
    const outcome = {
      chapterId: "c1",
      jobNumber: 3,
      status: "failed" as const,
      attempts: 2,
      mode: "batch" as const,
    };
    await store.writeOutcome({ ...run, jobNumber: 3 }, outcome);
    await store.markSubmitted(run, "book-r1-j3-a1", 3);
    await store.markCancelled(run, "2026-01-01T00:00:00.000Z");
    await store.markAnnounced(run, "c1");
    await store.markDeleted({ synthesisId: "book-r1-j3-a1", ...run, deletedAt: "t" });
    await store.createClaim({ ...run, jobNumber: 3, chapterId: "c1" }, "t");
    await store.writeSmallestRefused(run, 1000);
    const names: string[] = [];
    for await (const item of work.listBlobsFlat()) names.push(item.name);
    expect(names.sort()).toEqual(
      [
        runPaths.outcome("book", "r1", 3, "c1"),
        runPaths.submitted("book", "r1", "book-r1-j3-a1"),
        runPaths.cancelled("book", "r1"),
        runPaths.announced("book", "r1", "c1"),
        runPaths.deletedJob("book-r1-j3-a1"),
        runPaths.chapterClaim("book", "r1", 3, "c1"),
        runPaths.smallestRefused("book", "r1"),
      ].sort(),
    );
    expect(await readJson(work, runPaths.outcome("book", "r1", 3, "c1"))).toEqual(outcome);
    expect(await readJson(work, runPaths.submitted("book", "r1", "book-r1-j3-a1"))).toEqual({
      synthesisId: "book-r1-j3-a1",
      jobNumber: 3,
    });
    expect(runPaths.smallestRefused("book", "r1")).toBe("book/r1/payload/smallest-refused.json");

    // A cancel marker as the HTTP cancel writes it, and one with nothing in it (older runs).
    await writeJson(work, runPaths.cancelled("book", "r2"), {});
    expect(await store.isCancelled({ ...run, runId: "r2" })).toBe(true);
    expect(await store.cancelledAt({ ...run, runId: "r2" })).toBeUndefined();
  });

  it("keeps planning's records at their blobs, with their content types, and signs a read-only lexicon SAS", async () => {
    const work = service().getContainerClient(uniqueName("work"));
    const store = createBlobRunStore(work, service());
    const run = { projectId: "book", runId: "r1" };
    await store.writeRequestedChapters(run, ["ch2"]);
    await store.writePlannedInput(run, "a b", "<speak/>");
    await store.writeLexicon(run, "<lexicon/>");
    const window = {
      startsOn: new Date("2026-01-01T00:00:00Z"),
      expiresOn: new Date("2099-01-01T00:00:00Z"),
    };
    await store.fixLexiconWindow(run, "job1-attempt1", window);
    const types = new Map<string, string | undefined>();
    for await (const item of work.listBlobsFlat()) types.set(item.name, item.properties.contentType);
    expect(Object.fromEntries(types)).toEqual({
      "book/r1/chapters.json": "application/json; charset=utf-8",
      "book/r1/inputs/a%20b.ssml": "application/ssml+xml; charset=utf-8",
      "book/r1/lexicon.pls": "application/pls+xml; charset=utf-8",
      "book/r1/lexicon-sas/job1-attempt1.json": "application/json; charset=utf-8",
    });
    expect(await readJson(work, "book/r1/chapters.json")).toEqual({ chapters: ["ch2"] });
    expect(await readJson(work, "book/r1/lexicon-sas/job1-attempt1.json")).toEqual({
      startsOn: "2026-01-01T00:00:00.000Z",
      expiresOn: "2099-01-01T00:00:00.000Z",
    });
    const url = await store.lexiconUrl(run, window);
    expect(url).toMatch(new RegExp(`^${work.url}/book/r1/lexicon.pls\\?.*sp=r`));
    expect(await (await fetch(url)).text()).toBe("<lexicon/>");
    const put = await fetch(url, { method: "PUT", body: "x", headers: { "x-ms-blob-type": "BlockBlob" } });
    expect(put.ok).toBe(false);
  });

  it("refuses a stored record that is not what its schema says", async () => {
    const work = service().getContainerClient(uniqueName("work"));
    await work.create();
    await writeJson(work, runPaths.outcome("book", "r1", 1, "c1"), { chapterId: "c1", status: "maybe" });
    await expect(
      createBlobRunStore(work, service()).readOutcome({ projectId: "book", runId: "r1", jobNumber: 1 }, "c1"),
    ).rejects.toThrow();
  });
});
