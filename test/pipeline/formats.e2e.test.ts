import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { hasLibopus } from "../../tools/emulator/audio/render.js";
import { uniqueName } from "../support/names.js";
import {
  chapterText,
  E2E_TIMEOUT_MS,
  readJsonBlob,
  type Stack,
  startProject,
  startStack,
  uploadChapters,
  waitForRun,
} from "./e2eHarness.js";

/**
 * Ogg/WebM Opus are documented output formats (rest-text-to-speech.md, "Audio outputs"). Batch results are stored
 * as the service makes them; realtime mode, which joins several requests per chapter, refuses them up front.
 */
vi.setConfig({ testTimeout: E2E_TIMEOUT_MS });

let stack: Stack;
beforeAll(async () => {
  // Opus is really encoded (ffmpeg), in real time while the host's clock runs 1000x: a long job deadline keeps a
  // loaded machine from timing the job out (and paying for it twice).
  stack = await startStack(inject("azuriteConnectionString"), { JOB_TIMEOUT_MINUTES: "6000" });
});
afterAll(async () => {
  await stack?.stop();
});

describe("Ogg and WebM Opus end to end", () => {
  // The emulator encodes Opus with ffmpeg's libopus (.ci/run installs ffmpeg); without it these formats are refused.
  it.skipIf(!hasLibopus()).each([
    {
      outputFormat: "ogg-24khz-16bit-mono-opus",
      extension: "ogg",
      contentType: "audio/ogg",
      magic: "4f676753",
    },
    {
      outputFormat: "webm-24khz-16bit-mono-opus",
      extension: "webm",
      contentType: "audio/webm",
      magic: "1a45dfa3",
    },
  ])(
    "batch stores $outputFormat as it comes ($extension)",
    async ({ outputFormat, extension, contentType, magic }) => {
      const projectId = uniqueName(extension);
      await uploadChapters(stack, projectId, { "a.txt": chapterText(31), "b.txt": chapterText(32) });
      const before = await stack.emulator.usage();
      expect((await startProject(stack, projectId, { outputFormat })).status).toBe(202);
      const final = await waitForRun(stack, projectId);
      expect(final).toMatchObject({ runtimeStatus: "Completed", chapters: { total: 2, succeeded: 2 } });
      for (const chapter of ["a", "b"]) {
        const blob = stack.audio.getBlobClient(`${projectId}/${chapter}.${extension}`);
        const props = await blob.getProperties();
        expect(props.contentType).toBe(contentType);
        const bytes = await blob.downloadToBuffer();
        expect(bytes.subarray(0, 4).toString("hex")).toBe(magic);
      }
      const manifest = (await readJsonBlob(stack.audio, `${projectId}/manifest.json`)) as {
        chapters: { mode: string; durationMs: number }[];
        totals: { billableCharacters: number };
      };
      for (const chapter of manifest.chapters) {
        expect(chapter.mode).toBe("batch");
        expect(chapter.durationMs).toBeGreaterThan(1_000); // from summary.json: the container is not parsed here
      }
      const after = await stack.emulator.usage();
      expect(after.inputs - before.inputs).toBe(2);
      expect(after.billableCharacters - before.billableCharacters).toBe(manifest.totals.billableCharacters);
    },
  );

  it("realtime mode refuses an Ogg format up front with a 400 that says why, and sends nothing", async () => {
    const projectId = uniqueName("oggrt");
    await uploadChapters(stack, projectId, { "a.txt": chapterText(33) });
    const before = await stack.emulator.usage();
    const response = await startProject(stack, projectId, {
      outputFormat: "ogg-24khz-16bit-mono-opus",
      mode: "realtime",
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: {
        code: "unsupported-output-format",
        message: expect.stringMatching(/realtime.*joined.*batch mode/s),
      },
    });
    const after = await stack.emulator.usage();
    expect(after.requests.realtime).toBe(before.requests.realtime);
    expect(after.jobs).toBe(before.jobs);
  });
});
