import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Usage } from "../support/emulator.js";
import { uniqueName } from "../support/names.js";
import {
  api,
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
 * Pronunciations end to end (issue 14): a list and a PLS lexicon on a book where the names appear in
 * some chapters. The emulator speaks aliases in place of the written names, so the stored word
 * boundaries show them; edits re-bill exactly the chapters that use the edited term.
 */

let stack: Stack;

beforeAll(async () => {
  stack = await startStack(inject("azuriteConnectionString"));
});

afterAll(async () => {
  await stack?.stop();
});

const LIST = [
  { text: "Moretti", alias: "Mo Retti" },
  { text: "Audrey", alias: "Aw Dree" },
];

function lexicon(alias: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Tingen</grapheme><alias>${alias}</alias></lexeme>
</lexicon>`;
}

const BOOK = {
  "ch1.txt": `Klein Moretti woke in Tingen & wondered "why".\n\n${chapterText(1, 30)}`,
  "ch2.txt": `Audrey read the letter twice.\n\n${chapterText(2, 30)}`,
  "ch3.txt": chapterText(3, 40),
  "ch4.ssml":
    '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">' +
    '<voice name="en-US-AvaMultilingualNeural"><p>Moretti &amp; the <emphasis>quiet</emphasis> night.</p></voice></speak>',
};

async function words(projectId: string, chapterId: string): Promise<string[]> {
  const list = (await readJsonBlob(stack.audio, `${projectId}/${chapterId}.words.json`)) as {
    text: string;
  }[];
  return list.map((w) => w.text);
}

async function putJson(projectId: string, name: string, value: unknown) {
  await uploadChapters(stack, projectId, { [name]: JSON.stringify(value, null, 2) });
}

describe("pronunciations end to end", () => {
  const projectId = uniqueName("names");
  let afterFirst: Usage;

  it("applies the list and the lexicon: the stored word boundaries carry the aliases; the estimate bills the markup", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    await uploadChapters(stack, projectId, { ...BOOK, "lexicon.pls": lexicon("Ting gen city") });
    await putJson(projectId, "pronunciations.json", LIST);
    const before = await stack.emulator.usage();

    const estimate = await api(stack, "GET", `/api/projects/${projectId}/estimate`);
    expect(estimate.status).toBe(200);
    expect(estimate.body).toMatchObject({ chapters: 4, pending: 4, plannedJobs: 2 });

    expect((await startProject(stack, projectId)).status).toBe(202);
    const final = await waitForRun(stack, projectId);
    expect(final).toMatchObject({
      runtimeStatus: "Completed",
      chapters: { total: 4, succeeded: 4, failed: 0 },
    });

    const ch1 = await words(projectId, "ch1");
    expect(ch1.slice(0, 8)).toEqual(["Klein", "Mo", "Retti", "woke", "in", "Ting", "gen", "city"]);
    expect(ch1).not.toContain("Moretti");
    expect(ch1).not.toContain("Tingen");
    expect((await words(projectId, "ch2")).slice(0, 2)).toEqual(["Aw", "Dree"]);
    expect((await words(projectId, "ch3")).join(" ")).not.toMatch(/Mo Retti|Aw Dree/);
    expect((await words(projectId, "ch4")).slice(0, 3)).toEqual(["Mo", "Retti", "the"]);

    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    // The project's pronunciation files are settings, not ignored chapters.
    expect(manifest.ignored).toEqual([]);

    afterFirst = await stack.emulator.usage();
    expect(afterFirst.inputs - before.inputs).toBe(4);
    const billed = afterFirst.billableCharacters - before.billableCharacters;
    const plainCharacters = Object.values(BOOK).reduce((n, t) => n + [...t].length, 0);
    // The `<sub>`/`<p>`/`<lexicon uri>` markup is billed (docs: all markup except <speak> and <voice>) ...
    expect(billed).toBeGreaterThan(plainCharacters + 100);
    // ... and the estimate counted it, within the SAS query length it can only guess.
    expect(Math.abs(estimate.body["billableCharacters"] - billed)).toBeLessThan(120);
  });

  it("editing one entry re-bills only the chapters that contain it", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    await putJson(projectId, "pronunciations.json", [LIST[0], { text: "Audrey", alias: "Aw Dray" }]);
    const estimate = await api(stack, "GET", `/api/projects/${projectId}/estimate`);
    expect(estimate.body).toMatchObject({ pending: 1, unchanged: 3 });
    expect((await startProject(stack, projectId)).status).toBe(202);
    const second = await waitForRun(stack, projectId);
    expect(second.chapters).toMatchObject({ total: 4, succeeded: 1, unchanged: 3 });
    const afterSecond = await stack.emulator.usage();
    expect(afterSecond.inputs - afterFirst.inputs).toBe(1);
    expect((await words(projectId, "ch2")).slice(0, 2)).toEqual(["Aw", "Dray"]);
    const manifest = await readJsonBlob(stack.audio, `${projectId}/manifest.json`);
    const status = Object.fromEntries(
      manifest.chapters.map((c: { chapterId: string; status: string }) => [c.chapterId, c.status]),
    );
    expect(status).toEqual({ ch1: "unchanged", ch2: "succeeded", ch3: "unchanged", ch4: "unchanged" });

    // A lexicon edit re-synthesizes the one chapter that says "Tingen".
    await uploadChapters(stack, projectId, { "lexicon.pls": lexicon("Ting hen") });
    expect((await startProject(stack, projectId)).status).toBe(202);
    const third = await waitForRun(stack, projectId);
    expect(third.chapters).toMatchObject({ total: 4, succeeded: 1, unchanged: 3 });
    expect((await stack.emulator.usage()).inputs - afterSecond.inputs).toBe(1);
    expect((await words(projectId, "ch1")).slice(5, 7)).toEqual(["Ting", "hen"]);
  });

  it("a bad entry is refused with 400 naming it, at start and in the estimate, and bills nothing", {
    timeout: E2E_TIMEOUT_MS,
  }, async () => {
    const before = await stack.emulator.usage();
    await putJson(projectId, "pronunciations.json", [
      LIST[0],
      { text: "Audrey", alias: "Aw Dree", phoneme: "ˈɔːdri" },
    ]);
    for (const response of [
      await startProject(stack, projectId, { force: true }),
      await api(stack, "GET", `/api/projects/${projectId}/estimate`),
    ]) {
      expect(response.status).toBe(400);
      expect(response.body["error"]["code"]).toBe("invalid-pronunciations");
      expect(response.body["error"]["message"]).toContain('entry 1 ("Audrey")');
      expect(response.body["error"]["details"]).toEqual([
        expect.objectContaining({ file: "pronunciations.json", entry: 1, text: "Audrey" }),
      ]);
    }
    await uploadChapters(stack, projectId, { "lexicon.pls": "<lexicon>" });
    const badLexicon = await startProject(stack, projectId);
    expect(badLexicon.status).toBe(400);
    // Every problem of both files is listed, each naming its file (and entry).
    expect(badLexicon.body["error"]["details"]).toEqual([
      expect.objectContaining({ file: "pronunciations.json", entry: 1 }),
      expect.objectContaining({ file: "lexicon.pls", message: expect.stringContaining("well-formed") }),
    ]);
    const after = await stack.emulator.usage();
    expect(after.requests.create).toBe(before.requests.create);
    expect(after.billableCharacters).toBe(before.billableCharacters);
    // The last good run is still what the API reports.
    const status = await api(stack, "GET", `/api/projects/${projectId}/synthesis`);
    expect(status.body["runtimeStatus"]).toBe("Completed");
  });

  it("realtime mode inlines the lexicon and list terms", { timeout: E2E_TIMEOUT_MS }, async () => {
    const realtimeProject = uniqueName("names-rt");
    const text = "Moretti left Tingen at dawn.";
    await uploadChapters(stack, realtimeProject, {
      "ch1.txt": text,
      "lexicon.pls": lexicon("Ting gen city"),
    });
    await putJson(realtimeProject, "pronunciations.json", LIST);
    const before = await stack.emulator.usage();
    expect((await startProject(stack, realtimeProject, { mode: "realtime" })).status).toBe(202);
    const final = await waitForRun(stack, realtimeProject);
    expect(final.chapters).toMatchObject({ total: 1, succeeded: 1 });
    const after = await stack.emulator.usage();
    expect(after.requests.realtime - before.requests.realtime).toBe(1);
    expect(after.realtimeCharacters - before.realtimeCharacters).toBe(
      '<p><sub alias="Mo Retti">Moretti</sub> left <sub alias="Ting gen city">Tingen</sub> at dawn.</p>'
        .length,
    );
  });
});
