import type { ContainerClient } from "@azure/storage-blob";
import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings.js";
import { baseRequestBytes, buildBatchRequest } from "../../src/pipeline/batchRequest.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { projectFileSchema, resolveOptions, startRequestSchema } from "../../src/pipeline/options.js";
import {
  classifyProjectBlobs,
  countCharacters,
  countWords,
  decodeChapterText,
  naturalCompare,
  sha256Hex,
} from "../../src/pipeline/planning/chapters.js";
import { buildJobs, inputBytes, packJobs, requestBytes } from "../../src/pipeline/planning/packing.js";
import { readProjectFile } from "../../src/pipeline/planning/planRun.js";
import type { JobChapter } from "../../src/pipeline/planning/schema.js";

const settings = parseSettings({ AzureWebJobsStorage: "UseDevelopmentStorage=true", SPEECH_REGION: "local" });

describe("chapter listing", () => {
  it("orders chapters naturally and ignores other files", () => {
    const listing = classifyProjectBlobs("book", [
      "book/ch10.txt",
      "book/ch2.txt",
      "book/ch1.ssml",
      "book/project.json",
      "book/cover.png",
      "book/notes/ch3.txt",
      "other/ch1.txt",
      "book/ch2.ssml",
    ]);
    expect(listing.chapters.map((c) => [c.chapterId, c.index, c.kind])).toEqual([
      ["ch1", 0, "ssml"],
      ["ch2", 1, "ssml"],
      ["ch10", 2, "text"],
    ]);
    expect(listing.hasProjectFile).toBe(true);
    expect(listing.ignored).toEqual(["ch2.txt", "cover.png", "notes/ch3.txt"]);
  });

  it("compares names with numbers naturally", () => {
    expect(["0010-x", "0002-y", "a10", "a9", "a1"].sort(naturalCompare)).toEqual([
      "0002-y",
      "0010-x",
      "a1",
      "a9",
      "a10",
    ]);
  });
});

describe("chapter text", () => {
  it("strips a BOM and decodes strict UTF-8", () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from("Café & <tea> “quoted”", "utf8"),
    ]);
    expect(decodeChapterText(bytes)).toBe("Café & <tea> “quoted”");
  });

  it("refuses invalid UTF-8", () => {
    expect(decodeChapterText(Buffer.from([0x48, 0x69, 0xff, 0xfe]))).toBeUndefined();
    expect(decodeChapterText(Buffer.from([0xc3]))).toBeUndefined();
  });

  it("hashes text and counts code points", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(countCharacters("a😀é")).toBe(3);
  });
});

describe("packing", () => {
  const limits = { maxInputs: 8, maxPayloadBytes: 1_000_000, baseBytes: 300 };

  it("packs 30 chapters into 4 jobs of at most 8, evened out", () => {
    const jobs = packJobs(Array(30).fill(1000), limits);
    expect(jobs.map((j) => j.length)).toEqual([8, 8, 7, 7]);
    expect(jobs.flat()).toEqual([...Array(30).keys()]);
  });

  it("evens the jobs out: the same number of jobs, none much smaller than the others", () => {
    const jobs = packJobs(Array(1432).fill(1000), { ...limits, maxInputs: 100 });
    // Next-fit alone: 14 jobs of 100 and one of 32.
    expect(jobs).toHaveLength(15);
    expect(new Set(jobs.map((j) => j.length))).toEqual(new Set([95, 96]));
    expect(jobs.flat()).toEqual([...Array(1432).keys()]);
  });

  it("keeps next-fit when even jobs would break the payload limit", () => {
    // Next-fit: [300,300,300] [900]; two and two would put 300 + 900 in one job, over 1,000 bytes.
    const sizes = [300, 300, 300, 900];
    const jobs = packJobs(sizes, { maxInputs: 10, maxPayloadBytes: 1000, baseBytes: 0 });
    expect(jobs).toEqual([[0, 1, 2], [3]]);
  });

  it("keeps each job under the payload limit, measured like the serialized request", () => {
    const sizes = [400, 300, 300, 200, 500, 100, 450];
    const jobs = packJobs(sizes, { maxInputs: 100, maxPayloadBytes: 1000, baseBytes: 100 });
    for (const job of jobs) {
      expect(
        requestBytes(
          100,
          job.map((i) => sizes[i] as number),
        ),
      ).toBeLessThanOrEqual(1000);
    }
    expect(jobs.flat().sort((a, b) => a - b)).toEqual([...sizes.keys()]);
  });

  it("uses first-fit decreasing when order-preserving packing needs more jobs", () => {
    // Next-fit: [600] [500,400] [600] [400,500] = 4 jobs; the lower bound (3000/1000) is 3.
    const sizes = [600, 500, 400, 600, 400, 500];
    const jobs = packJobs(sizes, { maxInputs: 10, maxPayloadBytes: 1005, baseBytes: 0 });
    expect(jobs).toHaveLength(3);
  });

  it("measures exactly what JSON.stringify produces", () => {
    const contents = ["Hello & <world>", '“Quotes” and "escapes"\n', "😀 non-ASCII é"];
    const request = buildBatchRequest(
      "PlainText",
      "en-US-AvaMultilingualNeural",
      "audio-24khz-96kbitrate-mono-mp3",
      true,
      contents,
    );
    const base =
      baseRequestBytes("PlainText", "en-US-AvaMultilingualNeural", "audio-24khz-96kbitrate-mono-mp3", true) -
      512;
    expect(requestBytes(base, contents.map(inputBytes))).toBe(Buffer.byteLength(JSON.stringify(request)));
  });

  it("puts text and SSML chapters in separate jobs", () => {
    const chapter = (i: number, kind: "text" | "ssml"): JobChapter => ({
      chapterId: `c${i}`,
      index: i,
      sourceBlob: `p/c${i}`,
      kind,
      characters: 10,
      billableCharacters: 10,
      textSha256: "x",
      inputBytes: 50,
      attempts: 0,
    });
    const options = {
      voice: "v",
      outputFormat: "audio-24khz-96kbitrate-mono-mp3",
      wordBoundaries: true,
      maxChaptersPerJob: 8,
    };
    const jobs = buildJobs(
      [chapter(0, "text"), chapter(1, "ssml"), chapter(2, "text")],
      "batch",
      options,
      1_900_000,
      5,
    );
    expect(jobs.map((j) => [j.jobNumber, j.inputKind, j.chapters.map((c) => c.chapterId)])).toEqual([
      [5, "PlainText", ["c0", "c2"]],
      [6, "SSML", ["c1"]],
    ]);
    const groups = buildJobs(
      [chapter(0, "text"), chapter(1, "ssml"), chapter(2, "text")],
      "realtime",
      { ...options, maxChaptersPerJob: 2 },
      1_900_000,
      1,
    );
    expect(groups.map((g) => [g.mode, g.chapters.length])).toEqual([
      ["realtime", 2],
      ["realtime", 1],
    ]);
  });
});

describe("options", () => {
  it("rejects unknown fields and bad values", () => {
    expect(startRequestSchema.safeParse({ voicee: "x" }).success).toBe(false);
    expect(startRequestSchema.safeParse({ mode: "fast" }).success).toBe(false);
    expect(startRequestSchema.safeParse({ outputFormat: "audio-1khz-mp3" }).success).toBe(false);
    expect(startRequestSchema.safeParse({ maxChaptersPerJob: 0 }).success).toBe(false);
    expect(startRequestSchema.safeParse({ maxChaptersPerJob: 8, force: true, chapters: ["a"] }).success).toBe(
      true,
    );
  });

  it("lets the start body win over project.json over settings", () => {
    const project = projectFileSchema.parse({
      voice: "en-GB-SoniaNeural",
      mode: "realtime",
      title: "A Book",
      author: "x",
    });
    const options = resolveOptions({ mode: "batch" }, project, settings);
    expect(options).toMatchObject({
      voice: "en-GB-SoniaNeural",
      mode: "batch",
      outputFormat: "audio-24khz-96kbitrate-mono-mp3",
      maxChaptersPerJob: 100,
      maxConcurrentJobs: 3,
      wordBoundaries: true,
      force: false,
      title: "A Book",
    });
  });
});

describe("spoken words", () => {
  it("counts tokens with a letter or digit, leaving out SSML tags and lone punctuation", () => {
    expect(countWords("Café & “quoted” <tag> 42 — done.", "text")).toBe(5);
    const ssml =
      '<speak version="1.0" xml:lang="en-US"><voice name="v">Hello <break time="1s"/> world</voice></speak>';
    expect(countWords(ssml, "ssml")).toBe(2);
  });
});

describe("project.json reading", () => {
  // A stand-in container: only the one call readProjectFile makes, answering with fixed bytes or an error.
  const containerAnswering = (answer: () => Promise<Buffer>) =>
    ({ getBlobClient: () => ({ downloadToBuffer: answer }) }) as unknown as ContainerClient;
  const depsWith = (chapters: ContainerClient) => ({ storage: { chapters } }) as unknown as PipelineDeps;

  it("calls unparsable JSON the user's error", async () => {
    const deps = depsWith(containerAnswering(async () => Buffer.from("{ not json")));
    await expect(readProjectFile(deps, "book")).rejects.toMatchObject({ code: "invalid-project-file" });
  });

  it("lets a storage failure through as the server's error, not as invalid JSON", async () => {
    const outage = Object.assign(new Error("connect ECONNREFUSED"), { statusCode: 503 });
    const deps = depsWith(
      containerAnswering(async () => {
        throw outage;
      }),
    );
    await expect(readProjectFile(deps, "book")).rejects.toBe(outage);
  });
});
