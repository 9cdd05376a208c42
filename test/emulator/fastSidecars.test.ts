import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResultsManifest } from "../../tools/emulator/model.js";
import { readManifest, resultFiles } from "../../tools/emulator/resultsArchive.js";
import { boundaryJson, planSegments } from "../../tools/emulator/text.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client, download, unzip, waitForTerminal } from "./helpers.js";

/**
 * The fast audio path writes word.json and sentence.json next to its manifest, like the other paths: results
 * keep no spoken texts in memory or in the manifest, and a ranged read of a boundary file reads the file.
 * Results produced before (sidecars marked `generated`, texts in the manifest) are still served.
 */
const stateDir = mkdtempSync(join(tmpdir(), "emulator-fast-sidecars-"));
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ stateDir });
});

afterAll(async () => {
  await emulator?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const TEXTS = ["The first chapter, read aloud. It has two sentences.", "A second one! Short."];

function resultsDirOf(id: string): string {
  const base = join(stateDir, "results", id);
  const [instance] = readdirSync(base);
  return join(base, instance as string);
}

describe("fast-path boundary files", () => {
  it("are written to disk, served from there, and leave no spoken texts in the manifest", async () => {
    const id = "fast-sidecars-1";
    const created = await client(emulator).put(id, {
      inputKind: "PlainText",
      synthesisConfig: { voice: "en-US-AvaMultilingualNeural" },
      inputs: TEXTS.map((content) => ({ content })),
      properties: {
        outputFormat: "audio-16khz-32kbitrate-mono-mp3",
        wordBoundaryEnabled: true,
        sentenceBoundaryEnabled: true,
      },
    });
    expect(created.status).toBe(201);
    const job = await waitForTerminal(emulator, id);
    expect(job.status).toBe("Succeeded");

    const dir = resultsDirOf(id);
    const manifest = (await readManifest(dir)) as ResultsManifest;
    expect(manifest.units.every((u) => u.audio?.kind === "fast")).toBe(true);
    for (const unit of manifest.units) {
      expect(unit.spokenTexts).toBeUndefined();
      expect(unit.sidecars.map((s) => s.generated)).toEqual([undefined, undefined]);
    }
    const entries = await unzip(await download(job.outputs?.result as string));
    for (const [i, text] of TEXTS.entries()) {
      const prefix = String(i + 1).padStart(4, "0");
      for (const kind of ["word", "sentence"] as const) {
        const onDisk = readFileSync(join(dir, `${prefix}.${kind}.json`));
        expect(onDisk.equals(boundaryJson(planSegments([text]), kind))).toBe(true);
        expect(entries.get(`${prefix}.${kind}.json`)?.equals(onDisk)).toBe(true);
      }
    }
  });

  it("still regenerates the boundaries of results produced before (sidecars marked generated)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "emulator-old-results-"));
    try {
      const word = boundaryJson(planSegments([TEXTS[0] as string]), "word");
      const manifest: ResultsManifest = {
        jobId: "old-job",
        status: "Succeeded",
        extension: "mp3",
        wordBoundaryEnabled: true,
        sentenceBoundaryEnabled: false,
        units: [
          {
            number: 1,
            contents: [TEXTS[0] as string],
            status: "Succeeded",
            audioFileName: "0001.mp3",
            sizeInBytes: 3,
            durationInMilliseconds: 1,
            audio: { kind: "file", file: "0001.mp3" },
            sidecars: [{ name: "0001.word.json", size: word.length, generated: "word" }],
            spokenTexts: [TEXTS[0] as string],
            billedCharacters: 10,
            engine: "fast",
          },
        ],
      };
      writeFileSync(join(dir, "0001.mp3"), Buffer.from([1, 2, 3]));
      const file = resultFiles(dir, manifest).find((f) => f.name === "0001.word.json");
      const chunks: Buffer[] = [];
      for await (const chunk of file?.open() ?? []) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(word)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
