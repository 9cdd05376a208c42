import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
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

// totals.speechRequests counts what the pipeline asked of Speech (submit, polls, results, delete, realtime;
// docs/pipeline.md), so it must equal what the service served. Failed on the code before the budget merge:
// the submit's GET-before-PUT was not counted (one request short per job). One poll per execution, so the
// count is also carried across continueAsNew.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack(inject("azuriteConnectionString"), { POLLS_PER_EXECUTION: "1" });
});
afterAll(async () => {
  await stack?.stop();
});

describe("manifest speechRequests", () => {
  it("equals the Speech requests the emulator served for the run", { timeout: E2E_TIMEOUT_MS }, async () => {
    const projectId = uniqueName("requests");
    const files: Record<string, string> = {};
    for (let i = 1; i <= 6; i++) files[`ch${i}.txt`] = chapterText(i, 400);
    await uploadChapters(stack, projectId, files);
    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId, { maxChaptersPerJob: 3 })).status).toBe(202);
    expect(await waitForRun(stack, projectId)).toMatchObject({ runtimeStatus: "Completed" });
    const after = await stack.emulator.usage();
    const served = (["create", "get", "list", "delete", "realtime"] as const).reduce(
      (sum, k) => sum + after.requests[k] - before.requests[k],
      0,
    );
    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    expect(manifest.totals.batchJobs).toBe(2);
    expect(manifest.totals.speechRequests).toBe(served);
  });
});
