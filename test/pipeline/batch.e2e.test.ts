import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Usage } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import {
  api,
  chapterText,
  E2E_TIMEOUT_MS,
  expectBilled,
  readJsonBlob,
  type Stack,
  startProject,
  startStack,
  uploadChapters,
  waitForRun,
} from "./e2eHarness.js";

let stack: Stack;

beforeAll(async () => {
  // One poll per execution: every job still running at a poll continues as new, so exact billing is
  // checked across continueAsNew too (a continued job is never submitted again).
  stack = await startStack(inject("azuriteConnectionString"), { POLLS_PER_EXECUTION: "1" });
});

afterAll(async () => {
  await stack?.stop();
});

function book(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 1; i <= count; i++) files[`ch${i}.txt`] = chapterText(i, 20 + ((i * 37) % 90));
  return files;
}

describe("batch mode end to end", () => {
  // One book through three runs; the steps share the project and the emulator's usage counters.
  const projectId = uniqueName("book");
  let before: Usage;
  let afterFirst: Usage;
  let afterSecond: Usage;

  it("narrates 30 chapters in a pilot and 4 jobs: audio, subtitles, manifest and one message per chapter", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    await uploadChapters(stack, projectId, { ...book(30), "cover.png": Buffer.from([1, 2, 3]) });
    before = await stack.emulator.usage();

    const start = await startProject(stack, projectId, { maxChaptersPerJob: 8 });
    expect(start.status).toBe(202);
    expect(start.body["id"]).toBe(`tts-${projectId}`);
    expect(start.headers.get("location")).toBeTruthy();
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({
      runtimeStatus: "Completed",
      phase: "completed",
      chapters: { total: 30, succeeded: 30, failed: 0, rejected: 0, unchanged: 0, pending: 0 },
      // 4 jobs of 8 on 3 slots (the test stack's default) make two waves: the first job's first 4 chapters
      // go ahead as a pilot job (PILOT_CHAPTERS), its other 4 are a job of their own.
      jobs: { submitted: 5, running: 0, succeeded: 5, failed: 0 },
      manifestBlob: `${projectId}/manifest.json`,
    });

    const blobs: string[] = [];
    for await (const b of stack.audio.listBlobsFlat({ prefix: `${projectId}/`, includeMetadata: true })) {
      blobs.push(b.name);
      if (b.name.endsWith(".mp3")) {
        expect(b.properties.contentType).toBe("audio/mpeg");
        expect(b.metadata?.["textsha256"]).toMatch(/^[0-9a-f]{64}$/);
        expect(b.metadata?.["voice"]).toBe("en-US-AvaMultilingualNeural");
        expect(b.metadata?.["outputformat"]).toBe("audio-24khz-96kbitrate-mono-mp3");
      }
    }
    expect(blobs.filter((b) => b.endsWith(".mp3"))).toHaveLength(30);
    expect(blobs.filter((b) => b.endsWith(".srt"))).toHaveLength(30);
    expect(blobs.filter((b) => b.endsWith(".words.json"))).toHaveLength(30);

    const srt = (await stack.audio.getBlobClient(`${projectId}/ch1.srt`).downloadToBuffer()).toString("utf8");
    expect(srt).toMatch(/^1\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\n\S/);

    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    expect(manifest).toMatchObject({
      projectId,
      instanceId: `tts-${projectId}`,
      mode: "batch",
      ignored: ["cover.png"],
    });
    expect(manifest.chapters.map((c: { chapterId: string }) => c.chapterId)).toEqual(
      Array.from({ length: 30 }, (_, i) => `ch${i + 1}`),
    );
    expect(manifest.totals).toMatchObject({ chapters: 30, succeeded: 30, failed: 0, batchJobs: 5 });
    const jobOf = (chapterId: string) =>
      manifest.chapters.find((c: { chapterId: string }) => c.chapterId === chapterId)?.batchJobId;
    expect(jobOf("ch1")).toMatch(/-j1-a1$/);
    for (const id of ["ch2", "ch3", "ch4"]) expect(jobOf(id)).toBe(jobOf("ch1"));
    expect(jobOf("ch5")).toMatch(/-j2-a1$/);
    expect(jobOf("ch8")).toBe(jobOf("ch5"));
    expect(jobOf("ch9")).toMatch(/-j3-a1$/);
    expect(manifest.totals.completedAt).toBeTruthy();
    for (const c of manifest.chapters) {
      expect(c).toMatchObject({ status: "succeeded", mode: "batch", attempts: 1 });
      expect(c.durationMs).toBeGreaterThan(0);
      expect(c.sizeBytes).toBeGreaterThan(0);
      expect(c.batchJobId).toBeTruthy();
    }

    const messages = (await stack.drainMessages()).filter((m) => m.projectId === projectId);
    expect(messages).toHaveLength(30);
    const ch7 = messages.find((m) => m.chapterId === "ch7");
    expect(ch7).toMatchObject({
      chapterIndex: 6,
      audio: {
        container: stack.audio.containerName,
        blobName: `${projectId}/ch7.mp3`,
        contentType: "audio/mpeg",
      },
      subtitles: { container: stack.audio.containerName, blobName: `${projectId}/ch7.srt` },
      instanceId: `tts-${projectId}`,
    });
    expect(ch7?.audio.url).not.toContain("?");

    afterFirst = await stack.emulator.usage();
    await expectBilled(stack.emulator, before, { inputs: 30, realtime: 0, jobs: 5 });
  });

  it("re-runs as all unchanged: nothing sent to Speech, no new messages", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    expect((await startProject(stack, projectId, { maxChaptersPerJob: 8 })).status).toBe(202);
    const rerun = await waitForRun(stack, projectId);
    expect(rerun.chapters).toMatchObject({ total: 30, unchanged: 30, succeeded: 0 });
    afterSecond = await stack.emulator.usage();
    expect(afterSecond.jobs).toBe(afterFirst.jobs);
    expect(afterSecond.requests.create).toBe(afterFirst.requests.create);
    expect(afterSecond.billableCharacters).toBe(afterFirst.billableCharacters);
    expect((await stack.drainMessages()).filter((m) => m.projectId === projectId)).toHaveLength(30);
  });

  it("re-synthesizes only a changed chapter", { timeout: E2E_TIMEOUT_MS }, async () => {
    await uploadChapters(stack, projectId, { "ch5.txt": "A brand new fifth chapter & more." });
    expect((await startProject(stack, projectId)).status).toBe(202);
    const third = await waitForRun(stack, projectId);
    expect(third.chapters).toMatchObject({ total: 30, unchanged: 29, succeeded: 1 });
    await expectBilled(stack.emulator, afterSecond, { inputs: 1, jobs: 1 });
    const newMessages = (await stack.drainMessages()).filter((m) => m.projectId === projectId).slice(30);
    expect(newMessages.map((m) => m.chapterId)).toEqual(["ch5"]);
  });

  it("shows counters in the durable status endpoint's customStatus", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("book");
    await uploadChapters(stack, projectId, book(3));
    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    await waitForRun(stack, projectId);
    await expectBilled(stack.emulator, before, { inputs: 3, jobs: 1 });
    const durable = await api(stack, "GET", `/runtime/webhooks/durabletask/instances/tts-${projectId}`);
    expect(durable.status).toBe(200);
    expect(durable.body["customStatus"]).toMatchObject({
      phase: "completed",
      chapters: { total: 3, succeeded: 3, pending: 0 },
      jobs: { submitted: 1, succeeded: 1 },
    });
    expect(JSON.stringify(durable.body["customStatus"]).length).toBeLessThan(16_000);
    expect(durable.body["output"]).toMatchObject({ chapters: 3, succeeded: 3, batchJobs: 1 });
  });

  it("force re-synthesizes selected chapters; another format without word boundaries gets no subtitles", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("opts");
    await uploadChapters(stack, projectId, book(3));
    const initial = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    await waitForRun(stack, projectId);
    await expectBilled(stack.emulator, initial, { inputs: 3, jobs: 1 });
    const before = await stack.emulator.usage();

    expect((await startProject(stack, projectId, { force: true, chapters: ["ch2"] })).status).toBe(202);
    const forced = await waitForRun(stack, projectId);
    expect(forced.chapters).toMatchObject({ total: 3, succeeded: 3, unchanged: 0, pending: 0 });
    await expectBilled(stack.emulator, before, { inputs: 1, jobs: 1 });

    const wav = { outputFormat: "riff-24khz-16bit-mono-pcm", wordBoundaries: false };
    const beforeWav = await stack.emulator.usage();
    expect((await startProject(stack, projectId, wav)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final.chapters).toMatchObject({ total: 3, succeeded: 3 });
    await expectBilled(stack.emulator, beforeWav, { inputs: 3, jobs: 1 });
    const props = await stack.audio.getBlobClient(`${projectId}/ch1.wav`).getProperties();
    expect(props.contentType).toBe("audio/wav");
    expect(props.metadata?.["outputformat"]).toBe("riff-24khz-16bit-mono-pcm");
    const messages = (await stack.drainMessages()).filter((m) => m.projectId === projectId);
    const wavMessages = messages.filter((m) => m.outputFormat === "riff-24khz-16bit-mono-pcm");
    expect(wavMessages).toHaveLength(3);
    for (const m of wavMessages) {
      expect(m.subtitles).toBeNull();
      expect(m.audio.blobName.endsWith(".wav")).toBe(true);
    }
    expect(messages.filter((m) => m.chapterId === "ch2" && m.outputFormat.endsWith("mp3"))).toHaveLength(2);
  });

  it("a run of a chapters subset keeps the whole book in the manifest", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("subset");
    await uploadChapters(stack, projectId, { ...book(8), "ch9.txt": "  \n", "notes.md": "not a chapter" });
    const initial = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    await waitForRun(stack, projectId);
    await expectBilled(stack.emulator, initial, { inputs: 8, jobs: 1 });
    const first = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    // ch8 changes after its audio was made; ch10 is new and never synthesized.
    await uploadChapters(stack, projectId, {
      "ch8.txt": "The eighth chapter, rewritten.",
      "ch10.txt": chapterText(10),
    });
    const before = await stack.emulator.usage();

    const subset = { force: true, chapters: ["ch2", "ch7"] };
    expect((await startProject(stack, projectId, subset)).status).toBe(202);
    const status = await waitForRun(stack, projectId);
    await expectBilled(stack.emulator, before, { inputs: 2, jobs: 1 });
    // The chapter list never travels in the orchestration: the run's input names the stored list.
    const durable = await api(stack, "GET", `/runtime/webhooks/durabletask/instances/tts-${projectId}`);
    const runInput = durable.body["input"];
    expect(runInput.request).toEqual({ force: true });
    expect(runInput.chaptersBlob).toBe(`${projectId}/${runInput.runId}/chapters.json`);
    expect(await readJsonBlob(stack.work, runInput.chaptersBlob)).toEqual({ chapters: ["ch2", "ch7"] });
    expect(status.chapters).toEqual({
      total: 10,
      succeeded: 7,
      failed: 2,
      rejected: 1,
      unchanged: 0,
      pending: 0,
    });

    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    const ids = Array.from({ length: 10 }, (_, i) => `ch${i + 1}`);
    expect(manifest.chapters.map((c: { chapterId: string }) => c.chapterId)).toEqual(ids);
    expect(manifest.ignored).toEqual(["notes.md"]);
    // biome-ignore lint/suspicious/noExplicitAny: manifest JSON
    const byId = (list: any[], id: string) => list.find((c) => c.chapterId === id);
    for (const id of ["ch1", "ch3", "ch4", "ch5", "ch6"]) {
      const { status: was, batchJobId, durationMs, audioBlob, attempts, mode } = byId(first.chapters, id);
      expect(byId(manifest.chapters, id)).toMatchObject({
        status: was,
        batchJobId,
        durationMs,
        audioBlob,
        attempts,
        mode,
      });
      expect(was).toBe("succeeded");
    }
    for (const id of ["ch2", "ch7"]) {
      const now = byId(manifest.chapters, id);
      expect(now.status).toBe("succeeded");
      expect(now.batchJobId).not.toBe(byId(first.chapters, id).batchJobId);
    }
    expect(byId(manifest.chapters, "ch8")).toMatchObject({ status: "failed", reason: "not-selected" });
    expect(byId(manifest.chapters, "ch9")).toMatchObject({ status: "rejected", reason: "empty" });
    expect(byId(manifest.chapters, "ch10")).toMatchObject({
      status: "failed",
      reason: "not-selected",
      audioBlob: null,
    });
    expect(manifest.totals).toMatchObject({
      chapters: 10,
      succeeded: 7,
      failed: 2,
      rejected: 1,
      unchanged: 0,
    });
    const durations = manifest.chapters
      .filter((c: { status: string }) => c.status === "succeeded")
      .reduce((n: number, c: { durationMs: number }) => n + c.durationMs, 0);
    expect(manifest.totals.audioDurationMs).toBe(durations);
    const { startedAt, completedAt } = manifest.totals;
    for (const at of [startedAt, completedAt]) expect(new Date(at).toISOString()).toBe(at);
    expect(Date.parse(startedAt)).toBeLessThanOrEqual(Date.parse(completedAt));
    expect(Date.parse(startedAt)).toBeGreaterThanOrEqual(Date.parse(first.totals.completedAt));
    expect(Math.abs(Date.parse(completedAt) - Date.now())).toBeLessThan(10 * 60_000);
  });

  it("a run without word boundaries drops old subtitles; the next run with them re-synthesizes", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("stale");
    const srtOf = (id: string) => stack.audio.getBlobClient(`${projectId}/${id}.srt`);
    const wordsOf = (id: string) => stack.audio.getBlobClient(`${projectId}/${id}.words.json`);
    await uploadChapters(stack, projectId, {
      "s1.txt": "Apples are red and sweet.",
      "s2.txt": "Second chapter here.",
    });
    const initial = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    await waitForRun(stack, projectId);
    await expectBilled(stack.emulator, initial, { inputs: 2, jobs: 1 });

    await uploadChapters(stack, projectId, { "s1.txt": "Bananas are yellow and long." });
    const changed = await stack.emulator.usage();
    expect((await startProject(stack, projectId, { wordBoundaries: false })).status).toBe(202);
    expect((await waitForRun(stack, projectId)).chapters).toMatchObject({ succeeded: 1, unchanged: 1 });
    await expectBilled(stack.emulator, changed, { inputs: 1, jobs: 1 });
    expect(await srtOf("s1").exists()).toBe(false);
    expect(await wordsOf("s1").exists()).toBe(false);

    const before = await stack.emulator.usage();
    expect((await startProject(stack, projectId)).status).toBe(202);
    expect((await waitForRun(stack, projectId)).chapters).toMatchObject({ succeeded: 1, unchanged: 1 });
    await expectBilled(stack.emulator, before, { inputs: 1, jobs: 1 });
    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    const s1 = manifest.chapters.find((c: { chapterId: string }) => c.chapterId === "s1");
    expect(s1.status).toBe("succeeded");
    expect((await srtOf("s1").downloadToBuffer()).toString("utf8")).toContain("Bananas");
    expect((await srtOf("s1").getProperties()).metadata?.["textsha256"]).toBe(s1.textSha256);
    expect((await wordsOf("s1").getProperties()).metadata?.["textsha256"]).toBe(s1.textSha256);
  });

  it("simultaneous starts: one 202, the others 409 with the running instance's payload", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("race");
    await uploadChapters(stack, projectId, book(2));
    const before = await stack.emulator.usage();
    const starts = await Promise.all(Array.from({ length: 4 }, () => startProject(stack, projectId)));
    const statuses = starts.map((s) => s.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409]);
    for (const conflict of starts.filter((s) => s.status === 409)) {
      expect(conflict.body).toMatchObject({ id: `tts-${projectId}`, error: { code: "already-running" } });
      expect(conflict.body["statusQueryGetUri"]).toContain(`tts-${projectId}`);
    }
    expect((await waitForRun(stack, projectId)).runtimeStatus).toBe("Completed");
    // One run, its chapters paid once.
    await expectBilled(stack.emulator, before, { inputs: 2, jobs: 1 });
  });

  it("estimates audio at about 150 words a minute, whatever the word lengths", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const projectId = uniqueName("est");
    const words = (phrase: string, count: number) =>
      Array.from({ length: count }, (_, i) => phrase.split(" ")[i % phrase.split(" ").length]).join(" ");
    // 300 short words and 150 long ones: three minutes of speech.
    await uploadChapters(stack, projectId, {
      "a.txt": `${words("I am so glad we met", 300)}.`,
      "b.txt": `${words("extraordinarily comprehensive documentation", 150)}.`,
    });
    const before = await stack.emulator.usage();
    const estimate = await api(stack, "GET", `/api/projects/${projectId}/estimate`);
    expect(estimate.status).toBe(200);
    expect(estimate.body["estimatedAudioMinutes"]).toBe(3);
    await expectBilled(stack.emulator, before, { inputs: 0, jobs: 0 });
  });
});
