import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EXIT_OK, runCli } from "../../src/cli/main.js";
import { billableCharacters } from "../../src/text/index.js";
import { captureStream } from "../cli/helpers.js";
import { uniqueName } from "../support/names.js";
import {
  E2E_TIMEOUT_MS,
  readJsonBlob,
  type Stack,
  startProject,
  startStack,
  waitForRun,
} from "./e2eHarness.js";

/**
 * The publisher's migration, end to end: the sample old-layout project (samples/old-project) is migrated
 * into the stack's storage, switched to batch, and run through the local host and the Speech emulator.
 * The emulator's bill proves that nothing adopted was synthesized again.
 */
const sample = resolve(import.meta.dirname, "../../samples/old-project");
let stack: Stack;
let connectionString: string;

beforeAll(async () => {
  connectionString = inject("azuriteConnectionString");
  stack = await startStack(connectionString);
});

afterAll(async () => {
  await stack?.stop();
});

async function cli(args: string[]) {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    cwd: tmpdir(),
    env: {
      AzureWebJobsStorage: connectionString,
      CHAPTERS_CONTAINER: stack.chapters.containerName,
      AUDIO_CONTAINER: stack.audio.containerName,
    },
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe("migrate end to end", () => {
  it("adopted chapters are not billed: the first batch run pays only for missing and mismatched ones", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("migrated");
    const migrated = await cli(["migrate", sample, "--project", projectId, "--apply"]);
    expect(migrated.stderr).toBe("");
    expect(migrated.code).toBe(EXIT_OK);
    expect(migrated.stdout).toContain("The first run synthesizes 3 chapter(s)");
    // The old tool ran single requests; the publisher switches the project to batch.
    expect((await cli(["config", projectId, "--mode", "batch"])).code).toBe(EXIT_OK);
    const adoptedBytes = await stack.audio.getBlobClient(`${projectId}/chapter-1.mp3`).downloadToBuffer();

    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({
      runtimeStatus: "Completed",
      chapters: { total: 6, unchanged: 3, succeeded: 3, failed: 0 },
    });
    const after = await stack.emulator.usage();
    const expectedCharacters = await Promise.all(
      ["chapter-4", "chapter-5", "chapter-6"].map(async (id) =>
        billableCharacters(await readFile(join(sample, "chapters", `${id}.txt`), "utf8"), "PlainText"),
      ),
    );
    expect(after.jobs - before.jobs).toBe(1);
    expect(after.inputs - before.inputs).toBe(3);
    expect(after.billableCharacters - before.billableCharacters).toBe(
      expectedCharacters.reduce((a, b) => a + b),
    );
    expect(after.requests.realtime - before.requests.realtime).toBe(0);

    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    const statuses = Object.fromEntries(
      (manifest.chapters as { chapterId: string; status: string }[]).map((c) => [c.chapterId, c.status]),
    );
    expect(statuses).toEqual({
      "chapter-1": "unchanged",
      "chapter-2": "unchanged",
      "chapter-3": "unchanged",
      "chapter-4": "succeeded",
      "chapter-5": "succeeded",
      "chapter-6": "succeeded",
    });
    // The adopted audio is the old file, untouched by the run.
    expect(await stack.audio.getBlobClient(`${projectId}/chapter-1.mp3`).downloadToBuffer()).toEqual(
      adoptedBytes,
    );

    // Migrating again after the run changes nothing, and the next run bills nothing.
    const again = await cli(["--json", "migrate", sample, "--project", projectId, "--apply"]);
    const report = JSON.parse(again.stdout);
    expect(report.counts).toMatchObject({ adopted: 0, alreadyCurrent: 3, formatMismatches: 1 });
    expect(report.texts).toEqual({ uploaded: 0, unchanged: 6 });
    expect((await startProject(stack, projectId)).status).toBe(202);
    expect(await waitForRun(stack, projectId)).toMatchObject({
      runtimeStatus: "Completed",
      chapters: { total: 6, unchanged: 6 },
    });
    expect((await stack.emulator.usage()).inputs - after.inputs).toBe(0);
  });
});
