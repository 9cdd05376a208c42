import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { type EventValue, parseEvent } from "../../src/observability/events.js";
import { uniqueName } from "../support/names.js";
import {
  chapterText,
  E2E_TIMEOUT_MS,
  type Stack,
  startProject,
  startStack,
  uploadChapters,
  waitForRun,
} from "./e2eHarness.js";

/**
 * The activities' structured events as they leave through the Functions logger: the local host runs the
 * real app (dist/) at log level info, and its logger's output is captured. One chapter fails in batch and
 * in realtime, so the run shows a fallback and a chapter failed after fallback.
 */
let stack: Stack;
const lines: string[] = [];

beforeAll(async () => {
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(...String(chunk).split("\n"));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
  stack = await startStack(inject("azuriteConnectionString"), {
    LOCAL_HOST_LOG_LEVEL: "info",
    MAX_CHAPTER_ATTEMPTS: "1",
  });
});

afterAll(async () => {
  await stack?.stop();
  vi.restoreAllMocks();
});

describe("observability events end to end", () => {
  it("each job state change is one line with projectId, runId, jobNumber, chapterId, synthesisId; no text, no keys", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("observed");
    const texts = {
      "a.txt": chapterText(1, 40),
      "b.txt": `Never works. [[emulator:fail-always]] ${chapterText(2, 40)}`,
      "c.txt": chapterText(3, 40),
    };
    await uploadChapters(stack, projectId, texts);
    const start = await startProject(stack, projectId);
    expect(start.status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({ runtimeStatus: "Completed", chapters: { succeeded: 2, failed: 1 } });

    const ours = lines.filter((l) => l.includes("[tts] "));
    // The host logger's line: `[<activity>] <level>: [tts] <event> … ##{json}`.
    const events = ours
      .map((l) => ({ line: l, event: parseEvent(l.slice(l.indexOf("[tts] "))) }))
      .filter((e): e is { line: string; event: Record<string, EventValue> } => e.event !== undefined)
      .filter(
        (e) => e.event["projectId"] === projectId || String(e.event["synthesisId"] ?? "").includes(projectId),
      );
    const named = (name: string) => events.filter((e) => e.event["event"] === name);

    const planned = named("run.planned");
    expect(planned).toHaveLength(1);
    const runId = planned[0]?.event["runId"];
    expect(planned[0]?.event).toMatchObject({ chapters: 3, pending: 3, jobs: 1, mode: "batch" });

    const submitted = named("job.submitted");
    expect(submitted.length).toBeGreaterThanOrEqual(1);
    const synthesisId = submitted[0]?.event["synthesisId"];
    expect(submitted[0]?.event).toMatchObject({ projectId, runId, jobNumber: 1 });
    expect(typeof synthesisId).toBe("string");
    expect(
      named("job.polled").some(
        (e) => e.event["synthesisId"] === synthesisId && e.event["status"] === "Succeeded",
      ),
    ).toBe(true);
    expect(named("job.collected")[0]?.event).toMatchObject({
      projectId,
      runId,
      jobNumber: 1,
      synthesisId,
      succeeded: 2,
      fallbacks: 1,
    });
    expect(named("chapter.realtime")[0]?.event).toMatchObject({
      projectId,
      runId,
      chapterId: "b",
      status: "failed",
      fallback: true,
    });
    const failed = named("chapter.failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.line).toContain("error:");
    expect(failed[0]?.event).toMatchObject({ projectId, runId, chapterId: "b" });
    const manifests = named("run.manifest");
    expect(manifests.at(-1)?.event).toMatchObject({ completed: true, succeeded: 2, failed: 1, batchJobs: 1 });

    // Readable locally: the event name and the dimensions as key=value.
    expect(submitted[0]?.line).toMatch(
      new RegExp(`job\\.submitted projectId=${projectId} runId=\\S+ jobNumber=1 synthesisId=`),
    );
    for (const { line } of events) {
      expect(line).not.toContain("Never works");
      expect(line).not.toContain("ledger");
      expect(line).not.toContain(stack.emulator.key);
    }
  });
});
