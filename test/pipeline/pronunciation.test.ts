import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseSettings } from "../../src/config/settings.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { readJobSpec, submitJob } from "../../src/pipeline/jobs.js";
import { sha256Hex } from "../../src/pipeline/planning/chapters.js";
import { assessProject, planProject } from "../../src/pipeline/planning/planRun.js";
import { LEXICON_PLACEHOLDER_URI } from "../../src/pipeline/planning/pronunciations.js";
import type { Plan } from "../../src/pipeline/planning/schema.js";
import { createPipelineDeps } from "../../src/pipeline/runtime.js";
import { readSynthesisInput } from "../../src/pipeline/synthesisInput.js";
import { readJson } from "../../src/storage/blobs.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import { workContainer } from "../support/workContainer.js";

/** Planning and submission of chapters that use pronunciations, against Azurite and the emulator. */
let emulator: TestEmulator;
let deps: PipelineDeps;
/** Added to the wall clock: a retried submit runs later, and must still sign the same SAS. */
let clockOffsetMs = 0;

const PLS = `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Tingen</grapheme><phoneme>ˈtɪŋən</phoneme></lexeme>
</lexicon>`;

async function put(name: string, text: string) {
  await deps.storage.chapters.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  deps = createPipelineDeps(
    parseSettings({
      AzureWebJobsStorage: inject("azuriteConnectionString"),
      SPEECH_ENDPOINT: emulator.url,
      SPEECH_KEY: emulator.key,
      CHAPTERS_CONTAINER: uniqueName("chapters"),
      AUDIO_CONTAINER: uniqueName("audio"),
      VIDEO_QUEUE: uniqueName("video"),
      WORK_CONTAINER: uniqueName("work"),
    }),
    { now: () => new Date(Date.now() + clockOffsetMs) },
  );
  await deps.storage.chapters.createIfNotExists();
});

afterAll(async () => {
  await emulator?.stop();
});

describe("pronunciations in planning and submission", () => {
  const projectId = uniqueName("pron");
  const runId = "r1";
  const texts = { a: "Klein walked to Tingen.", b: "Nobody is named here." };

  it("plans chapters that use a term as SSML inputs in the work container, with the used rules in their hash", async () => {
    await put(`${projectId}/a.txt`, texts.a);
    await put(`${projectId}/b.txt`, texts.b);
    await put(`${projectId}/pronunciations.json`, JSON.stringify([{ text: "Klein", alias: "Kline" }]));
    await put(`${projectId}/lexicon.pls`, PLS);
    const result = await planProject(deps, { projectId, runId, instanceId: `tts-${projectId}`, request: {} });
    // Plain-text chapters go to job 1, SSML ones (including rewritten text) to job 2.
    expect(result.jobs.map((j) => j.chapters)).toEqual([1, 1]);
    const plan = (await readJson<Plan>(workContainer(deps), result.planBlob)) as Plan;
    const [a, b] = plan.chapters;
    expect(b).toMatchObject({ kind: "text", textSha256: sha256Hex(texts.b) });
    expect(b?.inputBlob).toBeUndefined();
    expect(a).toMatchObject({ kind: "ssml", inputBlob: `${projectId}/${runId}/inputs/a.ssml` });
    expect(a?.textSha256).not.toBe(sha256Hex(texts.a));
    const saved = (
      await workContainer(deps)
        .getBlobClient(a?.inputBlob as string)
        .downloadToBuffer()
    ).toString("utf8");
    expect(saved).toContain('<sub alias="Kline">Klein</sub> walked to Tingen.');
    expect(saved).toContain(`<lexicon uri="${LEXICON_PLACEHOLDER_URI}"/>`);
    expect(await workContainer(deps).getBlobClient(`${projectId}/${runId}/lexicon.pls`).exists()).toBe(true);
  });

  it("the estimate's assessment (no run) judges and counts like the run's planning, and writes nothing", async () => {
    const workBlobs = async () => {
      const names: string[] = [];
      for await (const blob of workContainer(deps).listBlobsFlat({ prefix: `${projectId}/` }))
        names.push(blob.name);
      return names.sort();
    };
    const before = await workBlobs();
    const plan = (await readJson<Plan>(workContainer(deps), `${projectId}/${runId}/plan.json`)) as Plan;
    const estimate = await assessProject(deps, { projectId, request: {} });
    // Same verdicts, hashes and sizes; only the run's name for a saved input is missing (there is no run).
    expect(estimate.chapters).toEqual(plan.chapters.map(({ inputBlob: _, ...chapter }) => chapter));
    expect(estimate.jobs.map((j) => j.chapters.map((c) => c.chapterId))).toEqual([["b"], ["a"]]);
    expect(estimate.pronunciationInputs.get("a")).toContain('<sub alias="Kline">Klein</sub>');
    expect(await workBlobs()).toEqual(before);
  });

  it("signs the lexicon SAS at submit, the same on a retried submit, so the job is created once", async () => {
    const before = await emulator.usage();
    const job = await readJobSpec(deps, { projectId, runId, jobNumber: 2 });
    expect(job.inputKind).toBe("SSML");
    const input = {
      projectId,
      runId,
      jobNumber: 2,
      attempt: 1,
      options: {
        voice: "en-US-AvaMultilingualNeural",
        outputFormat: "riff-24khz-16bit-mono-pcm",
        wordBoundaries: true,
      },
    };
    const first = await submitJob(deps, input);
    clockOffsetMs = 90_000;
    const second = await submitJob(deps, input);
    expect(first).toMatchObject({ submitted: true });
    expect(second).toMatchObject({ submitted: true });
    if (first.submitted && second.submitted) expect(second.synthesisId).toBe(first.synthesisId);
    const after = await emulator.usage();
    expect(after.jobs - before.jobs).toBe(1);

    const ref = { projectId, runId, submission: "job2-attempt1" };
    const chapter = job.chapters[0] as (typeof job.chapters)[number];
    const batchInput = await readSynthesisInput(deps, ref, chapter, "batch");
    expect(batchInput).toBe(await readSynthesisInput(deps, ref, chapter, "batch"));
    const uri = /<lexicon uri="([^"]+)"/.exec(batchInput)?.[1]?.replace(/&amp;/g, "&") as string;
    expect(uri).toMatch(
      new RegExp(`^${workContainer(deps).url}/${projectId}/${runId}/lexicon.pls\\?.*sp=r.*sig=`),
    );
    // The SAS reads the snapshot (what the service will do), and nothing more.
    expect(await (await fetch(uri)).text()).toBe(PLS);
    expect(
      (await fetch(uri, { method: "PUT", body: "x", headers: { "x-ms-blob-type": "BlockBlob" } })).ok,
    ).toBe(false);
  });

  it("inlines the lexicon for realtime, where a long chapter is split into requests", async () => {
    const job = await readJobSpec(deps, { projectId, runId, jobNumber: 2 });
    const chapter = job.chapters[0] as (typeof job.chapters)[number];
    const realtime = await readSynthesisInput(
      deps,
      { projectId, runId, submission: "rt" },
      chapter,
      "realtime",
    );
    expect(realtime).not.toContain("<lexicon");
    expect(realtime).toContain(
      '<sub alias="Kline">Klein</sub> walked to <phoneme alphabet="ipa" ph="ˈtɪŋən">Tingen</phoneme>.',
    );
  });
});
