import { AzureKeyCredential } from "@azure/core-auth";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseSettings } from "../../src/config/settings.js";
import { collectJob } from "../../src/pipeline/collect.js";
import type { PipelineDeps } from "../../src/pipeline/deps.js";
import { submitJob } from "../../src/pipeline/jobs.js";
import { isPayloadTooLarge, PayloadTooLargeError, readRefusal } from "../../src/pipeline/payloadLimit.js";
import { planProject } from "../../src/pipeline/planning/planRun.js";
import { planRetries } from "../../src/pipeline/retries.js";
import { runPaths } from "../../src/pipeline/runState.js";
import { createPipelineDeps } from "../../src/pipeline/runtime.js";
import { BatchSynthesisClient } from "../../src/speech/index.js";
import { readJson } from "../../src/storage/blobs.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import { workContainer } from "../support/workContainer.js";
import { chapterText } from "./e2eHarness.js";

/**
 * Create-body limit: 2 MB in the articles (batch-synthesis.md: "The maximum JSON payload size that's accepted is
 * 2 megabytes"), 500 KB in the 2024-04-01 spec. The emulator defaults to the articles and takes the spec's value
 * as a setting; the pipeline re-splits a refused job inside its activities without spending attempts.
 */
const emulators: TestEmulator[] = [];
afterAll(async () => {
  await Promise.all(emulators.map((e) => e.stop()));
});
async function emulatorWith(options: Parameters<typeof startTestEmulator>[0]) {
  const emulator = await startTestEmulator({ rateLimit: false, ...options });
  emulators.push(emulator);
  return emulator;
}
const request = (bytes: number) => ({
  inputKind: "PlainText" as const,
  synthesisConfig: { voice: "en-US-AvaMultilingualNeural" },
  inputs: [{ content: "a ".repeat(Math.floor(bytes / 2)) }],
});

describe("the emulator's create-body limit", () => {
  it("defaults to the articles' 2 MB and takes the spec's 500 KB as a setting (400 naming the size, or 413)", async () => {
    const docs = await emulatorWith({});
    const spec = await emulatorWith({ maxPayloadBytes: 500 * 1024 });
    const gateway = await emulatorWith({ maxPayloadBytes: 500 * 1024, payloadTooLargeStatus: 413 });
    const client = (e: TestEmulator) => new BatchSynthesisClient(e.url, new AzureKeyCredential(e.key));
    await expect(client(docs).createSynthesis(uniqueName("mb"), request(600_000))).resolves.toMatchObject({
      status: expect.any(String),
    });
    await expect(client(docs).createSynthesis(uniqueName("mb"), request(2_200_000))).rejects.toSatisfy(
      isPayloadTooLarge,
    );
    const refused = await client(spec)
      .createSynthesis(uniqueName("kb"), request(600_000))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ statusCode: 400, message: expect.stringMatching(/512000 bytes/) });
    expect(isPayloadTooLarge(refused)).toBe(true);
    const status413 = await client(gateway)
      .createSynthesis(uniqueName("gw"), request(600_000))
      .catch((e: unknown) => e);
    expect(status413).toMatchObject({ statusCode: 413 });
    expect(isPayloadTooLarge(status413)).toBe(true);
    // Other 400s are not mistaken for it.
    const other = await client(spec)
      .createSynthesis(uniqueName("bad"), { ...request(10), synthesisConfig: { voice: "" } })
      .catch((e: unknown) => e);
    expect(isPayloadTooLarge(other)).toBe(false);
  });
});

describe("a job refused as too large (400 naming the size), activity by activity", () => {
  let emulator: TestEmulator;
  let deps: PipelineDeps;
  beforeAll(async () => {
    emulator = await emulatorWith({ maxPayloadBytes: 12_000 });
    deps = createPipelineDeps(
      parseSettings({
        AzureWebJobsStorage: inject("azuriteConnectionString"),
        SPEECH_ENDPOINT: emulator.url,
        SPEECH_KEY: emulator.key,
        CHAPTERS_CONTAINER: uniqueName("chapters"),
        AUDIO_CONTAINER: uniqueName("audio"),
        VIDEO_QUEUE: uniqueName("video"),
        WORK_CONTAINER: uniqueName("work"),
        MAX_JOB_PAYLOAD_BYTES: "60000",
      }),
    );
    await deps.storage.chapters.createIfNotExists();
  });

  it("submit records the refusal, collect keeps the attempts, plan-retries packs under half the refused size", async () => {
    const projectId = uniqueName("refused");
    for (let i = 1; i <= 6; i++) {
      const text = chapterText(40 + i, 700);
      await deps.storage.chapters
        .getBlockBlobClient(`${projectId}/c${i}.txt`)
        .upload(text, Buffer.byteLength(text));
    }
    const runId = "r1";
    const instanceId = `tts-${projectId}`;
    const plan = await planProject(deps, { projectId, runId, instanceId, request: {} });
    expect(plan.jobs).toHaveLength(1);
    const options = {
      voice: plan.options.voice,
      outputFormat: plan.options.outputFormat,
      wordBoundaries: true,
    };
    const ref = { projectId, runId, jobNumber: 1 };

    const before = await emulator.usage();
    const error = await submitJob(deps, { ...ref, attempt: 1, options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    const refusal = await readRefusal(deps, ref);
    expect(refusal).toMatchObject({ jobNumber: 1, chapters: 6, sent: true });
    expect(refusal?.requestBytes).toBeGreaterThan(12_000);
    // The orchestrator retries the activity: the record answers, nothing is created.
    await expect(submitJob(deps, { ...ref, attempt: 1, options })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    expect((await emulator.usage()).jobs).toBe(before.jobs);

    const tally = await collectJob(deps, {
      ...ref,
      instanceId,
      synthesisId: "",
      options,
      maxAttempts: 2,
      jobError: String((error as Error).message),
    });
    expect(tally).toMatchObject({ succeeded: 0, retry: 6, realtime: 0 });
    const outcome = await readJson<{ attempts: number; status: string }>(
      workContainer(deps),
      runPaths.outcome(projectId, runId, 1, "c1"),
    );
    expect(outcome).toMatchObject({ status: "retry", attempts: 0 });

    const more = await planRetries(deps, {
      ...ref,
      nextJobNumber: 2,
      options: { ...options, maxChaptersPerJob: 100 },
      maxPayloadBytes: 60_000,
      jobFailed: true,
    });
    expect(more.length).toBeGreaterThanOrEqual(3);
    expect(more.every((j) => j.mode === "batch")).toBe(true);
    // Each new job fits under half the refused request, so the service takes it.
    for (const job of more) {
      const submitted = await submitJob(deps, {
        projectId,
        runId,
        jobNumber: job.jobNumber,
        attempt: 1,
        options,
      });
      expect(submitted).toMatchObject({ submitted: true });
    }
    expect((await emulator.usage()).inputs - before.inputs).toBe(6);
  });
});
