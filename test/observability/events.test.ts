import { describe, expect, it } from "vitest";
import { sanitizeMessage } from "../../src/config/secrets.js";
import { activityEvents } from "../../src/observability/activityEvents.js";
import { emitEvent, formatEvent, parseEvent } from "../../src/observability/events.js";

describe("pipeline events", () => {
  it("one line: readable key=value pairs, then the JSON the KQL queries parse", () => {
    const line = formatEvent(
      activityEvents.submit(
        { projectId: "book", runId: "r1", jobNumber: 2, attempt: 0 },
        { submitted: true, synthesisId: "tts-book-r1-j2-a0", status: "NotStarted" },
      ),
    );
    expect(line).toBe(
      '[tts] job.submitted projectId=book runId=r1 jobNumber=2 synthesisId=tts-book-r1-j2-a0 attempt=0 status=NotStarted ##{"event":"job.submitted","projectId":"book","runId":"r1","jobNumber":2,"synthesisId":"tts-book-r1-j2-a0","attempt":0,"status":"NotStarted"}',
    );
    expect(parseEvent(line)).toEqual({
      event: "job.submitted",
      projectId: "book",
      runId: "r1",
      jobNumber: 2,
      synthesisId: "tts-book-r1-j2-a0",
      attempt: 0,
      status: "NotStarted",
    });
    expect(parseEvent("some other log line")).toBeUndefined();
  });

  it("a chapter id with spaces or # still parses; the JSON starts at the first ## (the readable part has none)", () => {
    const line = formatEvent({ event: "chapter.failed", projectId: "p", chapterId: "ch ##{1}", reason: "x" });
    expect(line).toContain("chapterId=ch_{1}");
    expect(parseEvent(line)).toMatchObject({ chapterId: "ch ##{1}" });
  });

  it("scrubs SAS signatures, keys and tokens from reasons", () => {
    const reason =
      "GET https://st.blob.core.windows.net/c/a.mp3?sv=2024&se=2026&sig=abc%2Bdef failed; Ocp-Apim-Subscription-Key: 0123abcd; Authorization: Bearer eyJhbGci.x.y; AccountKey=Zm9v==;";
    const scrubbed = sanitizeMessage(reason);
    for (const secret of ["abc%2Bdef", "0123abcd", "eyJhbGci", "Zm9v=="])
      expect(scrubbed).not.toContain(secret);
    const line = formatEvent({ event: "chapter.failed", projectId: "p", reason });
    expect(line).not.toContain("abc%2Bdef");
    expect(line).not.toContain("eyJhbGci");
  });

  it("redacts every URL query value but the allow-listed ones, and realtime's aad# tokens whole", () => {
    // A Functions key (`code=`) in a check-status URL passed the old deny-list of SAS field names; the
    // realtime endpoint's `Bearer aad#{resourceId}#{token}` lost its token only in the event scrubber.
    const reason =
      "GET https://app.azurewebsites.net/runtime/webhooks/durabletask/instances/x?taskHub=h&code=FUNCKEY123 failed; " +
      "Authorization: Bearer aad#/subscriptions/s/accounts/a#eyJTOKEN";
    const line = formatEvent({ event: "chapter.failed", projectId: "p", reason });
    expect(line).not.toContain("FUNCKEY123");
    expect(line).not.toContain("eyJTOKEN");
    expect(parseEvent(line)?.reason).toContain("code=REDACTED");
  });

  it("levels go to the matching logger method", () => {
    const calls: [string, string][] = [];
    const sink = {
      log: (m: unknown) => calls.push(["log", String(m)]),
      warn: (m: unknown) => calls.push(["warn", String(m)]),
      error: (m: unknown) => calls.push(["error", String(m)]),
    };
    const outcome = {
      chapterId: "ch3",
      jobNumber: 4,
      attempts: 4,
      mode: "realtime" as const,
      status: "failed" as const,
      reason: "SynthesisFailed: 400",
    };
    for (const e of activityEvents.realtime({ projectId: "p", runId: "r", jobNumber: 4 }, outcome))
      emitEvent(sink, e);
    expect(calls.map(([method]) => method)).toEqual(["log", "error"]);
    expect(parseEvent(calls[1]?.[1] ?? "")).toMatchObject({
      event: "chapter.failed",
      projectId: "p",
      runId: "r",
      jobNumber: 4,
      chapterId: "ch3",
      fallback: true,
    });
  });

  it("per-run metrics: service seconds from the manifest times", () => {
    const e = activityEvents.manifest(
      { projectId: "p", runId: "r", startedAt: "2026-01-01T00:00:00Z", completedAt: "2026-01-01T00:02:05Z" },
      {
        chapters: 10,
        succeeded: 9,
        failed: 1,
        rejected: 0,
        unchanged: 0,
        pending: 0,
        billableCharacters: 1234,
        audioDurationMs: 60_400,
        batchJobs: 2,
        speechRequests: 9,
        startedAt: "2026-01-01T00:00:00Z",
        completedAt: "2026-01-01T00:02:05Z",
      },
    );
    expect(e).toMatchObject({
      event: "run.manifest",
      completed: true,
      serviceSeconds: 125,
      audioSeconds: 60,
      failed: 1,
    });
    expect(e.level).toBe("warning");
  });
});
