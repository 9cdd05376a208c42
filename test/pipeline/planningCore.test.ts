import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings.js";
import { type EffectiveOptions, resolveOptions } from "../../src/pipeline/options.js";
import {
  assessChapter,
  type ChapterContext,
  completeAssessment,
  type Pronounce,
  runTuning,
} from "../../src/pipeline/planning/assess.js";
import {
  type ExistingOutput,
  NOT_SELECTED_REASON,
  previousChaptersOf,
} from "../../src/pipeline/planning/changes.js";
import { type ChapterSource, sha256Hex } from "../../src/pipeline/planning/chapters.js";
import { PlanError } from "../../src/pipeline/planning/planError.js";
import { parseProjectFile } from "../../src/pipeline/planning/projectFile.js";

/**
 * Planning's pure core (src/pipeline/planning/ but planRun.ts): a chapter's verdict from its bytes, change
 * detection against listed outputs, carrying chapters outside a subset, packing and counting. No storage.
 */

const settings = parseSettings({ AzureWebJobsStorage: "UseDevelopmentStorage=true", SPEECH_REGION: "local" });
const options = (request: Parameters<typeof resolveOptions>[0] = {}): EffectiveOptions =>
  resolveOptions(request, {}, settings);
const tuning = runTuning(settings);
const utf8 = (text: string) => new TextEncoder().encode(text);

const source = (chapterId: string, index = 0, kind: "text" | "ssml" = "text"): ChapterSource => ({
  chapterId,
  index,
  sourceBlob: `book/${chapterId}.${kind === "ssml" ? "ssml" : "txt"}`,
  kind,
});

const context = (fields: Partial<ChapterContext> = {}): ChapterContext => ({
  projectId: "book",
  options: options(),
  existing: new Map(),
  maxPayloadBytes: tuning.maxPayloadBytes,
  ...fields,
});

/** The outputs a finished chapter leaves (audio, subtitles, word boundaries), stamped like outputs.ts does. */
function outputsOf(chapterId: string, text: string, fields: { voice?: string; hash?: string } = {}) {
  const base = options();
  const textsha256 = fields.hash ?? sha256Hex(text);
  const audio: ExistingOutput = {
    name: `book/${chapterId}.mp3`,
    metadata: {
      textsha256,
      voice: fields.voice ?? base.voice,
      outputformat: base.outputFormat,
      durationms: "1234",
    },
    sizeBytes: 5000,
  };
  const srt = { name: `book/${chapterId}.srt`, metadata: { textsha256 }, sizeBytes: 10 };
  const words = { name: `book/${chapterId}.words.json`, metadata: { textsha256 }, sizeBytes: 10 };
  return [audio, srt, words];
}
const byName = (outputs: ExistingOutput[]) => new Map(outputs.map((o) => [o.name, o]));

describe("a chapter's verdict", () => {
  it("rejects bad input with its reason, measuring what it could", () => {
    const verdict = (bytes: Uint8Array | undefined, kind: "text" | "ssml" = "text", fields = {}) =>
      assessChapter(source("ch1", 0, kind), bytes, context(fields)).chapter;
    expect(verdict(new Uint8Array([0xff, 0xfe, 0x00]))).toMatchObject({
      status: "rejected",
      reason: "invalid-encoding",
      characters: 0,
    });
    expect(verdict(undefined)).toMatchObject({ status: "rejected", reason: "empty" });
    expect(verdict(utf8("  \n\t"))).toMatchObject({ status: "rejected", reason: "empty", characters: 4 });
    expect(verdict(utf8("<speak>unclosed"), "ssml")).toMatchObject({
      status: "rejected",
      reason: "invalid-ssml",
      textSha256: sha256Hex("<speak>unclosed"),
    });
    expect(verdict(utf8("x".repeat(2000)), "text", { maxPayloadBytes: 1000 })).toMatchObject({
      status: "rejected",
      reason: "too-large",
      characters: 2000,
    });
  });

  it("plans a readable chapter as pending with its counts and hash", () => {
    const text = "Café au lait, twice.";
    const { chapter, pronouncedInput } = assessChapter(source("ch1"), utf8(text), context());
    expect(pronouncedInput).toBeUndefined();
    expect(chapter).toMatchObject({
      chapterId: "ch1",
      kind: "text",
      status: "pending",
      characters: 20,
      words: 4,
      billableCharacters: 20,
      textSha256: sha256Hex(text),
      inputBytes: JSON.stringify({ content: text }).length + 1, // é is two bytes in UTF-8
    });
    expect(chapter.inputBlob).toBeUndefined();
  });

  it("is unchanged only when audio of the same text, voice and format (and subtitles) exist", () => {
    const text = "Hello there.";
    const assess = (outputs: ExistingOutput[], fields: Partial<ChapterContext> = {}) =>
      assessChapter(source("ch1"), utf8(text), context({ existing: byName(outputs), ...fields })).chapter;
    const [audio, srt, words] = outputsOf("ch1", text) as [ExistingOutput, ExistingOutput, ExistingOutput];
    expect(assess([audio, srt, words])).toMatchObject({
      status: "unchanged",
      audioBlob: "book/ch1.mp3",
      sizeBytes: 5000,
      durationMs: 1234,
    });
    expect(assess(outputsOf("ch1", text, { hash: sha256Hex("other text") })).status).toBe("pending");
    expect(assess(outputsOf("ch1", text, { voice: "en-US-JennyNeural" })).status).toBe("pending");
    // Subtitles left over from another text: with word boundaries the chapter is made again...
    const staleSrt = { ...srt, metadata: { textsha256: sha256Hex("older") } };
    expect(assess([audio, staleSrt, words]).status).toBe("pending");
    // ... without them the audio alone decides.
    expect(assess([audio], { options: options({ wordBoundaries: false }) }).status).toBe("unchanged");
    expect(assess([audio, srt, words], { options: options({ force: true }) }).status).toBe("pending");
  });

  it("applies pronunciations: sent as SSML, hash folded with the rules, a run names the saved input", () => {
    const text = "Read Nguyen aloud.";
    const ssml = "<speak>Read <phoneme>Nguyen</phoneme> aloud.</speak>";
    const pronounce: Pronounce = (t) =>
      t.includes("Nguyen") ? { ssml, billed: `${ssml}${"x".repeat(100)}`, usedHash: "rules-1" } : undefined;
    const estimate = assessChapter(source("ch1"), utf8(text), context({ pronounce }));
    expect(estimate.pronouncedInput).toBe(ssml);
    expect(estimate.chapter).toMatchObject({ kind: "ssml", status: "pending", characters: 18 });
    expect(estimate.chapter.textSha256).not.toBe(sha256Hex(text));
    // Measured as the service gets it (the billed form), not as saved.
    expect(estimate.chapter.inputBytes).toBe(JSON.stringify({ content: `${ssml}${"x".repeat(100)}` }).length);
    // An estimate has no run, so no input blob; a run's planning names it.
    expect(estimate.chapter.inputBlob).toBeUndefined();
    const planned = assessChapter(
      source("ch1"),
      utf8(text),
      context({ pronounce, inputBlobOf: (id) => `book/r1/inputs/${id}.ssml` }),
    );
    expect(planned.chapter.inputBlob).toBe("book/r1/inputs/ch1.ssml");
    expect(planned.chapter.textSha256).toBe(estimate.chapter.textSha256);
    // A chapter using no listed term keeps its kind and plain hash.
    const plain = assessChapter(source("ch2"), utf8("Nothing special."), context({ pronounce }));
    expect(plain.chapter).toMatchObject({ kind: "text", textSha256: sha256Hex("Nothing special.") });
  });
});

describe("a chapters subset", () => {
  const text = "Same text as before.";
  const previousManifest = {
    chapters: [
      { chapterId: "done", textSha256: sha256Hex(text), status: "succeeded", batchJobId: "b1", attempts: 1 },
      { chapterId: "broken", textSha256: sha256Hex(text), status: "failed", reason: "service-error" },
      { chapterId: "edited", textSha256: sha256Hex("old text"), status: "failed", reason: "service-error" },
      { chapterId: 42 },
    ],
  };
  const subset = { wanted: new Set(["wanted"]), previous: previousChaptersOf(previousManifest) };
  const carried = (chapterId: string, outputs: ExistingOutput[] = [], bytes = utf8(text)) =>
    assessChapter(source(chapterId), bytes, context({ existing: byName(outputs), subset })).chapter;

  it("reads the previous manifest leniently: bad entries and non-manifests are left out", () => {
    expect([...subset.previous.keys()]).toEqual(["done", "broken", "edited"]);
    expect(previousChaptersOf(undefined).size).toBe(0);
    expect(previousChaptersOf("not json").size).toBe(0);
  });

  it("plans the wanted chapters and carries the others as the previous manifest had them", () => {
    expect(carried("wanted")).toMatchObject({ status: "pending" });
    expect(carried("wanted").carried).toBeUndefined();
    expect(carried("done", outputsOf("done", text))).toMatchObject({
      carried: true,
      status: "succeeded",
      batchJobId: "b1",
      attempts: 1,
      audioBlob: "book/done.mp3",
    });
    // Current audio but no previous record: unchanged.
    expect(carried("other", outputsOf("other", text))).toMatchObject({ carried: true, status: "unchanged" });
    expect(carried("broken")).toMatchObject({ carried: true, status: "failed", reason: "service-error" });
    // A failure of another text does not carry over: the chapter was simply not selected.
    expect(carried("edited")).toMatchObject({ carried: true, status: "failed", reason: NOT_SELECTED_REASON });
    expect(carried("bad", [], new Uint8Array([0xff]))).toMatchObject({
      carried: true,
      status: "rejected",
      reason: "invalid-encoding",
    });
  });
});

describe("the project's assessment", () => {
  it("packs only the pending chapters into jobs 1..n and counts every status", () => {
    const existing = byName(outputsOf("ch2", "Two."));
    const pronounce: Pronounce = (t) =>
      t.startsWith("Three")
        ? { ssml: "<speak>Three</speak>", billed: "<speak>Three</speak>", usedHash: "h" }
        : undefined;
    const verdicts = [
      assessChapter(source("ch1", 0), utf8("One."), context({ existing, pronounce })),
      assessChapter(source("ch2", 1), utf8("Two."), context({ existing, pronounce })),
      assessChapter(source("ch3", 2), utf8("Three."), context({ existing, pronounce })),
      assessChapter(source("ch4", 3), utf8(""), context({ existing, pronounce })),
    ];
    const run = completeAssessment(verdicts, ["cover.png"], options(), tuning, "<lexicon/>");
    expect(run.chapters.map((c) => c.status)).toEqual(["pending", "unchanged", "pending", "rejected"]);
    expect(run.counts).toEqual({
      total: 4,
      pending: 2,
      unchanged: 1,
      rejected: 1,
      succeeded: 0,
      failed: 0,
      ignored: 1,
      characters: 10,
      words: 2,
      // "One." as written; SSML bills its text, not its tags ("Three").
      billableCharacters: 4 + 5,
    });
    // Plain text and SSML never share a batch job.
    expect(run.jobs.map((j) => [j.jobNumber, j.inputKind, j.chapters.map((c) => c.chapterId)])).toEqual([
      [1, "PlainText", ["ch1"]],
      [2, "SSML", ["ch3"]],
    ]);
    expect([...run.pronunciationInputs]).toEqual([["ch3", "<speak>Three</speak>"]]);
    expect(run.lexiconSource).toBe("<lexicon/>");
  });
});

describe("project.json", () => {
  it("parses options and refuses bad JSON or bad values as the user's error", () => {
    expect(parseProjectFile(utf8('{"voice":"en-US-JennyNeural","title":"A book"}'))).toEqual({
      voice: "en-US-JennyNeural",
      title: "A book",
    });
    expect(() => parseProjectFile(utf8("{ not json"))).toThrow(PlanError);
    try {
      parseProjectFile(utf8('{"maxChaptersPerJob":"many"}'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PlanError);
      expect(error).toMatchObject({ code: "invalid-project-file" });
      expect((error as PlanError).details).toEqual([expect.objectContaining({ path: "maxChaptersPerJob" })]);
    }
  });
});
