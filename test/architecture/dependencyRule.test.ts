import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The dependency rule (.dependency-cruiser.cjs, `npm run lint:deps`) run on a small fixture tree shaped like
 * the repository: each deliberately wrong import must be reported under its rule, and the allowed ones not.
 */
const repo = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

/** path -> source. Every file imports the others it names; `marker` ties a file to the rule it should break. */
const fixture: Record<string, string> = {
  "src/config/settings.ts": "export const settings = 1;\n",
  "src/storage/blobs.ts":
    'import { settings } from "../config/settings.js";\nexport const blobs = settings;\n',
  "src/speech/formats.ts": "export const formats = 1;\n",
  "src/speech/client.ts": 'import { formats } from "./formats.js";\nexport const client = formats;\n',
  "src/http/handler.ts":
    'import { useCase } from "../pipeline/useCase.js";\nexport const handler = useCase;\n',
  // Allowed: a use case using a pure speech table and the port.
  "src/pipeline/useCase.ts":
    'import { formats } from "../speech/formats.js";\nimport type { Port } from "./speechPorts.js";\nexport const useCase = (p: Port) => p(formats);\n',
  "src/pipeline/speechPorts.ts": "export type Port = (n: number) => number;\n",
  // Allowed: the adapter and the composition root import the Speech clients.
  "src/pipeline/speechAdapter.ts":
    'import { client } from "../speech/client.js";\nexport const adapter = client;\n',
  // Allowed: the run store's Blob adapter imports the Blob SDK.
  "src/pipeline/blobRunStore.ts":
    'import type { ContainerClient } from "@azure/storage-blob";\nexport type Work = ContainerClient;\n',
  "functions/app.ts": 'import { handler } from "../src/http/handler.js";\nexport const app = handler;\n',
  "tools/local.ts": 'import { useCase } from "../src/pipeline/useCase.js";\nexport const local = useCase;\n',
  "test/some.test.ts": 'import { local } from "../tools/local.js";\nexport const t = local;\n',
  // Wrong, one per rule:
  "src/cli/usesTools.ts": 'import { local } from "../../tools/local.js";\nexport const x = local;\n',
  "src/cli/usesTestType.ts": 'import type { t } from "../../test/some.test.js";\nexport type X = typeof t;\n',
  "src/cli/usesFunctionsLazily.ts": 'export const x = () => import("../../functions/app.js");\n',
  "functions/usesTools.ts": 'import { local } from "../tools/local.js";\nexport const x = local;\n',
  "tools/usesFunctions.ts": 'import { app } from "../functions/app.js";\nexport const x = app;\n',
  "src/pipeline/usesHttp.ts": 'import { handler } from "../http/handler.js";\nexport const x = handler;\n',
  "src/pipeline/usesSpeechClient.ts": 'export { client } from "../speech/client.js";\n',
  "src/pipeline/usesBlobSdk.ts":
    'import type { ContainerClient } from "@azure/storage-blob";\nexport type Work = ContainerClient;\n',
  "src/text/usesPipeline.ts":
    'import { useCase } from "../pipeline/useCase.js";\nexport const x = useCase;\n',
  // Allowed: the neutral concurrency helper (no storage) from any layer.
  "src/concurrency.ts": "export const mapLimit = 1;\n",
  "src/pipeline/usesConcurrency.ts":
    'import { mapLimit } from "../concurrency.js";\nexport const x = mapLimit;\n',
  // Allowed: the product's files in the audio container are a listed storage exception.
  "src/pipeline/outputs.ts": 'import { blobs } from "../storage/blobs.js";\nexport const x = blobs;\n',
  // Planning's core stays pure (no storage, Azure SDK or file system); its use case planRun.ts may use storage.
  "src/pipeline/planning/packing.ts": "export const packing = 1;\n",
  "src/pipeline/planning/planRun.ts":
    'import { blobs } from "../../storage/blobs.js";\nimport { packing } from "./packing.js";\nexport const x = blobs + packing;\n',
  "src/pipeline/planning/usesStorage.ts":
    'import { blobs } from "../../storage/blobs.js";\nexport const x = blobs;\n',
  "src/pipeline/planning/usesFileSystem.ts":
    'import { readFileSync } from "node:fs";\nexport const x = readFileSync;\n',
  "src/pipeline/planning/usesAzureSdk.ts": 'export type { BlobItem } from "@azure/storage-blob";\n',
  // ... nor through another file.
  "src/pipeline/readsBlobs.ts": 'import { blobs } from "../storage/blobs.js";\nexport const reads = blobs;\n',
  "src/pipeline/planning/usesReader.ts":
    'import { reads } from "../readsBlobs.js";\nexport const x = reads;\n',
  "src/cli/typo.ts": 'import { nothing } from "./doesNotExist.js";\nexport const x = nothing;\n',
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tts-deps-"));
  for (const [path, source] of Object.entries(fixture)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the repository's checker, with the repository's config, over the fixture tree. */
async function cruise(outputType: "json" | "err"): Promise<{ code: number; stdout: string }> {
  const args = [
    join(repo, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs"),
    "functions",
    "src",
    "tools",
    "test",
    "--config",
    join(repo, ".dependency-cruiser.cjs"),
    "--output-type",
    outputType,
  ];
  try {
    const { stdout } = await run(process.execPath, args, { cwd: dir });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe("the dependency rule", () => {
  it("reports each deliberately wrong import under its rule, and nothing else", async () => {
    const violations: Violation[] = JSON.parse((await cruise("json")).stdout).summary.violations;
    const found = violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    expect(found).toEqual(
      [
        "functions-register-src-only: functions/usesTools.ts -> tools/local.ts",
        "inner-layers-stay-inner: src/text/usesPipeline.ts -> src/pipeline/useCase.ts",
        "pipeline-is-not-driven-from-inside: src/pipeline/usesHttp.ts -> src/http/handler.ts",
        "pipeline-reaches-speech-through-ports: src/pipeline/usesSpeechClient.ts -> src/speech/client.ts",
        // planRun.ts (planning's use case, a listed exception) may use storage; the core and the others may not.
        "pipeline-reaches-storage-through-ports: src/pipeline/planning/usesStorage.ts -> src/storage/blobs.ts",
        "pipeline-reaches-storage-through-ports: src/pipeline/readsBlobs.ts -> src/storage/blobs.ts",
        "planning-core-is-pure: src/pipeline/planning/usesAzureSdk.ts -> @azure/storage-blob",
        "planning-core-is-pure: src/pipeline/planning/usesFileSystem.ts -> fs",
        "planning-core-is-pure: src/pipeline/planning/usesReader.ts -> src/storage/blobs.ts",
        "planning-core-is-pure: src/pipeline/planning/usesStorage.ts -> src/storage/blobs.ts",
        "pipeline-reaches-blob-storage-through-ports: src/pipeline/usesBlobSdk.ts -> @azure/storage-blob",
        "pipeline-reaches-blob-storage-through-ports: src/pipeline/planning/usesAzureSdk.ts -> @azure/storage-blob",
        "resolvable: src/cli/typo.ts -> ./doesNotExist.js",
        "src-is-self-contained: src/cli/usesFunctionsLazily.ts -> functions/app.ts",
        "src-is-self-contained: src/cli/usesTestType.ts -> test/some.test.ts",
        "src-is-self-contained: src/cli/usesTools.ts -> tools/local.ts",
        "tools-use-src-only: tools/usesFunctions.ts -> functions/app.ts",
      ].sort(),
    );
  });

  it("fails the way `npm run lint:deps` runs it: non-zero exit, the wrong import named", async () => {
    const { code, stdout } = await cruise("err");
    expect(code).not.toBe(0);
    expect(stdout).toContain("error src-is-self-contained: src/cli/usesTools.ts → tools/local.ts");
    expect(stdout).toContain(
      "error pipeline-reaches-storage-through-ports: src/pipeline/readsBlobs.ts → src/storage/blobs.ts",
    );
    expect(stdout).toContain("17 errors");
  });
});
