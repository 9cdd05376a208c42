// The dependency rule of docs/ARCHITECTURE.md ("What may import what"), checked by `npm run lint:deps`
// (part of `npm test`). Paths are resolved files, so `import type`, re-exports and dynamic `import()` count.
// test/architecture/dependencyRule.test.ts proves each rule fails on a deliberately wrong import.
// dependency-cruiser 17 (18 needs Node 22) parses TypeScript with swc: TypeScript 7 has no JS API.

/** Outer layers of src/: they drive the pipeline (HTTP, CLI, dashboard, compare) or watch it (observability). */
const driving = "^src/(http|cli|dashboard|compare|observability)/";

/**
 * The src/pipeline files that may import src/storage (and why); every other use case goes through a port.
 * docs/ARCHITECTURE.md ("What may import what") lists the same.
 */
const storageExceptions = [
  "runtime", // the composition root: builds the storage clients and the run store
  "blobRunStore", // the run store's Blob adapter (the work container)
  "deps", // the ports file: hands the storage clients to use cases (a type import)
  "planning/planRun", // planning reads the project's input (chapters container), existing outputs, the manifest
  "synthesisInput", // a job's input: the chapter's source text in the chapters container
  "outputs", // the product: a chapter's audio, words and subtitles in the audio container
  "manifest", // the product: the manifest in the audio container (conditional writes)
  "runGuard", // reads the manifest's version in the audio container (a newer run wrote it)
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "src-is-self-contained",
      comment:
        "src/ is what gets deployed: it never imports local tooling, the Functions registrations or tests.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(tools|functions|test)/" },
    },
    {
      name: "functions-register-src-only",
      comment: "functions/ holds thin registrations of src/ code; local tooling and tests are not deployed.",
      severity: "error",
      from: { path: "^functions/" },
      to: { path: "^(tools|test)/" },
    },
    {
      name: "tools-use-src-only",
      comment:
        "tools/ may use src/, never the Functions registrations or tests (the local host loads dist/ at run time).",
      severity: "error",
      from: { path: "^tools/" },
      to: { path: "^(functions|test)/" },
    },
    {
      name: "pipeline-is-not-driven-from-inside",
      comment: "src/pipeline (the use cases) never imports the adapters that drive or watch it.",
      severity: "error",
      from: { path: "^src/pipeline/" },
      to: { path: driving },
    },
    {
      name: "pipeline-reaches-speech-through-ports",
      comment:
        "Use cases call Speech through speechPorts.ts; only the adapter (speechAdapter.ts) and the composition root " +
        "(runtime.ts) import the Speech clients. speech/formats.ts (output formats) and speech/models.ts (the " +
        "wire types: request body, status, word boundaries) are pure and shared.",
      severity: "error",
      from: { path: "^src/pipeline/", pathNot: "^src/pipeline/(speechAdapter|runtime)\\.ts$" },
      to: { path: "^src/speech/", pathNot: "^src/speech/(formats|models)\\.ts$" },
    },
    {
      name: "planning-core-is-pure",
      comment:
        "Planning's core (src/pipeline/planning/ but planRun.ts, the use case) judges and packs what it is given: " +
        "it reaches no storage, Azure SDK, PipelineDeps, file or network module, not even through another file " +
        "(reachable), so it is unit-tested without Azurite.",
      severity: "error",
      from: { path: "^src/pipeline/planning/", pathNot: "^src/pipeline/planning/planRun\\.ts$" },
      to: {
        path: "^src/storage/|^src/pipeline/(deps|runtime)\\.ts$|(^|/)@azure/|^(node:)?(fs|http|https|net|child_process)(/|$)",
        reachable: true,
      },
    },
    {
      name: "inner-layers-stay-inner",
      comment:
        "text, config, audio, speech and storage know nothing of the pipeline or the adapters around it.",
      severity: "error",
      from: { path: "^src/(text|config|audio|speech|storage)/" },
      to: { path: `^src/pipeline/|${driving}` },
    },
    {
      name: "pipeline-reaches-blob-storage-through-ports",
      comment:
        "Use cases reach run state through the RunStore port (runStore.ts, `deps.runs`), never the Blob SDK: only " +
        "its Blob adapter (blobRunStore.ts) and the composition root (runtime.ts) import @azure/storage-blob.",
      severity: "error",
      from: { path: "^src/pipeline/", pathNot: "^src/pipeline/(blobRunStore|runtime)\\.ts$" },
      to: { path: "(^|/)@azure/storage-blob(/|$)" },
    },
    {
      name: "pipeline-reaches-storage-through-ports",
      comment:
        "Use cases reach storage through ports (run state: the RunStore, `deps.runs`). The listed exceptions are " +
        "the files that touch the two containers that are not run state: the project's input (chapters " +
        "container) and the product (audio container, CONTRACT §2). Each is named in storageExceptions.",
      severity: "error",
      from: { path: "^src/pipeline/", pathNot: `^src/pipeline/(${storageExceptions.join("|")})\\.ts$` },
      // The Blob SDK itself is the rule above's (narrower: no exception imports it directly).
      to: { path: "^src/storage/|(^|/)@azure/storage-queue(/|$)" },
    },
    {
      name: "resolvable",
      comment:
        "Every relative import resolves to a file (a typo here would otherwise hide an edge from the rules).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, path: "^\\." },
    },
  ],
  options: {
    parser: "swc",
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^dist/|^(src|tools|test|functions)/.*\\.local/" },
  },
};
