import { mapLimit } from "../../concurrency.js";
import { downloadBytes, listBlobs, readJson } from "../../storage/blobs.js";
import type { PlanInput } from "../contracts.js";
import type { PipelineDeps } from "../deps.js";
import { type EffectiveOptions, type ProjectFile, resolveOptions, type StartRequest } from "../options.js";
import { audioPaths, runPaths } from "../runState.js";
import { readThroughputPrior } from "../throughput.js";
import {
  assessChapter,
  type ChapterContext,
  completeAssessment,
  countChapters,
  type PlanCounts,
  type ProjectAssessment,
  type Pronounce,
  runTuning,
} from "./assess.js";
import { type ExistingOutput, previousChaptersOf } from "./changes.js";
import { classifyProjectBlobs, PROJECT_FILE_NAME, type ProjectListing } from "./chapters.js";
import { PlanError } from "./planError.js";
import { parseProjectFile } from "./projectFile.js";
import {
  asBilled,
  loadPronunciations,
  type ProjectPronunciations,
  PronunciationsError,
  pronounceChapter,
} from "./pronunciations.js";
import { type JobSpec, type JobSummary, type Plan, type RunTuning, summarizeJob } from "./schema.js";

/**
 * Planning, the use case: reads a project (listing, project.json, pronunciations, existing audio, the
 * previous manifest, every chapter), has the pure core judge and pack it, and for a run saves the plan and
 * job lists. The estimate calls {@link assessProject} (no run, nothing written); the PlanProject activity
 * calls {@link planProject}.
 */

const READ_CONCURRENCY = 16;

export async function listProject(deps: PipelineDeps, projectId: string): Promise<ProjectListing> {
  const items = await listBlobs(deps.storage.chapters, `${projectId}/`);
  return classifyProjectBlobs(
    projectId,
    items.map((i) => i.name),
  );
}

/**
 * The project's project.json ({} when there is none). Only a parse failure is the user's
 * ({@link PlanError} `invalid-project-file`); a storage failure propagates as the server's (retried, 500).
 */
export async function readProjectFile(deps: PipelineDeps, projectId: string): Promise<ProjectFile> {
  const bytes = await downloadBytes(deps.storage.chapters, `${projectId}/${PROJECT_FILE_NAME}`);
  return bytes ? parseProjectFile(bytes) : {};
}

/**
 * The project's pronunciations, or a {@link PlanError} `invalid-pronunciations` naming the bad entries:
 * checked at start and in the estimate, before anything is planned or sent.
 */
export async function readProjectPronunciations(
  deps: PipelineDeps,
  projectId: string,
): Promise<ProjectPronunciations | undefined> {
  try {
    return await loadPronunciations((file) => downloadBytes(deps.storage.chapters, `${projectId}/${file}`));
  } catch (error) {
    if (error instanceof PronunciationsError) throw new PlanError(error.code, error.message, error.issues);
    throw error;
  }
}

/** What is being assessed: a project and the start body's options. An estimate has no run and no ids. */
export interface AssessInput {
  projectId: string;
  request: StartRequest;
}

/** Lists, reads, judges and packs a project's chapters; writes nothing (the estimate's dry run). */
export function assessProject(deps: PipelineDeps, input: AssessInput): Promise<ProjectAssessment> {
  return assess(deps, input, undefined);
}

async function assess(
  deps: PipelineDeps,
  input: AssessInput,
  run: { runId: string } | undefined,
): Promise<ProjectAssessment> {
  const { projectId } = input;
  const [listing, projectFile, audioItems, pronunciations] = await Promise.all([
    listProject(deps, projectId),
    readProjectFile(deps, projectId),
    listBlobs(deps.storage.audio, `${projectId}/`, { metadata: true }),
    readProjectPronunciations(deps, projectId),
  ]);
  const options = resolveOptions(input.request, projectFile, deps.settings);
  const tuning = runTuning(deps.settings);
  const existing = new Map<string, ExistingOutput>(
    audioItems.map((i) => [
      i.name,
      { name: i.name, metadata: i.metadata, sizeBytes: i.properties.contentLength ?? 0 },
    ]),
  );
  // A `chapters` subset: the other chapters are carried over from the previous manifest.
  const subset = options.chapters && {
    wanted: new Set(options.chapters),
    previous: await readPreviousChapters(deps, projectId),
  };
  const inputBlobOf = run && ((id: string) => runPaths.plannedInput(projectId, run.runId, id));
  const context: ChapterContext = {
    projectId,
    options,
    existing,
    maxPayloadBytes: tuning.maxPayloadBytes,
    ...(pronunciations ? { pronounce: pronouncing(pronunciations, options, deps.runs.url.length) } : {}),
    ...(inputBlobOf ? { inputBlobOf } : {}),
    ...(subset ? { subset } : {}),
  };
  const verdicts = await mapLimit(listing.chapters, READ_CONCURRENCY, async (source) =>
    assessChapter(source, await downloadBytes(deps.storage.chapters, source.sourceBlob), context),
  );
  return completeAssessment(verdicts, listing.ignored, options, tuning, pronunciations?.lexicon?.source);
}

/** The project's pronunciations bound to the run's voice and mode, for the core to apply per chapter. */
function pronouncing(
  pronunciations: ProjectPronunciations,
  options: EffectiveOptions,
  workUrlLength: number,
): Pronounce {
  return (text, kind) => {
    const pronounced = pronounceChapter(text, kind, options.voice, pronunciations, options.mode);
    if (!pronounced) return undefined;
    // Billed as the service gets it: the placeholder becomes the snapshot's SAS URL (container URL + path).
    const billed = asBilled(pronounced.ssml, workUrlLength + 40);
    return { ssml: pronounced.ssml, billed, usedHash: pronounced.usedHash };
  };
}

/** The previous manifest's chapters (an unreadable manifest counts as none). */
async function readPreviousChapters(deps: PipelineDeps, projectId: string) {
  const raw = await readJson<unknown>(deps.storage.audio, audioPaths.manifest(projectId)).catch(
    () => undefined,
  );
  return previousChaptersOf(raw);
}

/** The PlanProject activity's input (its one definition is the contract's schema). */
export type { PlanInput };

/** What the orchestrator gets back from planning: counts and job summaries, never chapter text or lists. */
export interface PlanResult {
  planBlob: string;
  options: Omit<EffectiveOptions, "chapters">;
  tuning: RunTuning;
  counts: PlanCounts;
  jobs: JobSummary[];
}

/** The start body with its `chapters` subset read back from the run store (the input names it). */
async function withRequestedChapters(deps: PipelineDeps, input: PlanInput): Promise<PlanInput> {
  if (!input.chaptersBlob) return input;
  const chapters = await deps.runs.readRequestedChapters(input);
  if (!chapters) throw new Error(`The run's chapter list ${input.chaptersBlob} is missing.`);
  return { ...input, request: { ...input.request, chapters } };
}

/** Planning activity: assesses the project and saves the plan and job lists as blobs (idempotent). */
export async function planProject(deps: PipelineDeps, input: PlanInput): Promise<PlanResult> {
  // A replayed or retried planning re-uses the saved plan, so job contents never change under a run.
  let saved = await readSavedRun(deps, input);
  if (!saved) {
    // The run store creates the work container on its first write.
    await Promise.all([deps.storage.audio.createIfNotExists(), deps.storage.videoQueue.createIfNotExists()]);
    const assessed = await assess(deps, await withRequestedChapters(deps, input), { runId: input.runId });
    const plan: Plan = {
      projectId: input.projectId,
      runId: input.runId,
      instanceId: input.instanceId,
      createdAt: deps.now().toISOString(),
      options: assessed.options,
      tuning: assessed.tuning,
      chapters: assessed.chapters,
      ignored: assessed.ignored,
      initialJobs: assessed.jobs.length,
    };
    // Earlier runs' throughput, saved with the plan: the first job's poll plan starts from it.
    const priorRate = await readThroughputPrior(deps);
    if (priorRate) plan.tuning.priorRate = priorRate;
    if (assessed.jobs.some((job) => job.pilot)) {
      const pilotPriorRate = await readThroughputPrior(deps, "pilot");
      if (pilotPriorRate) plan.tuning.pilotPriorRate = pilotPriorRate;
    }
    await saveRun(deps, plan, assessed);
    saved = { plan, jobs: assessed.jobs };
  }
  const { plan, jobs } = saved;
  // The subset stays in plan.json; the orchestration gets counts.
  const { chapters: _subset, ...options } = plan.options;
  return {
    planBlob: runPaths.plan(input.projectId, input.runId),
    options,
    tuning: plan.tuning,
    counts: countChapters(plan.chapters, plan.ignored),
    jobs: jobs.map(summarizeJob),
  };
}

// Run state: planning's reads and writes of the run (plan, job lists, planned inputs, lexicon snapshot), all
// through the run store.

async function readSavedRun(
  deps: PipelineDeps,
  input: PlanInput,
): Promise<{ plan: Plan; jobs: JobSpec[] } | undefined> {
  const run = { projectId: input.projectId, runId: input.runId };
  const plan = await deps.runs.readPlan(run);
  if (!plan) return undefined;
  const jobs: JobSpec[] = [];
  for (let n = 1; n <= (plan.initialJobs ?? 0); n++) {
    const job = await deps.runs.readJob({ ...run, jobNumber: n });
    if (job) jobs.push(job);
  }
  return { plan, jobs };
}

/**
 * Saves the planned SSML of pending chapters that use pronunciations and the run's lexicon snapshot, then
 * the job lists, then plan.json last: a saved plan means the run's planning is complete.
 */
async function saveRun(deps: PipelineDeps, plan: Plan, assessed: ProjectAssessment): Promise<void> {
  const { projectId, runId } = plan;
  const pending = plan.chapters.filter((c) => c.status === "pending" && c.inputBlob);
  await mapLimit(pending, READ_CONCURRENCY, async (c) => {
    const content = assessed.pronunciationInputs.get(c.chapterId);
    if (content === undefined) throw new Error(`No planned input for ${c.chapterId}.`);
    await deps.runs.writePlannedInput({ projectId, runId }, c.chapterId, content);
  });
  if (assessed.lexiconSource !== undefined && pending.length > 0) {
    await deps.runs.writeLexicon({ projectId, runId }, assessed.lexiconSource);
  }
  await mapLimit(assessed.jobs, READ_CONCURRENCY, (job) => deps.runs.writeJob({ projectId, runId }, job));
  await deps.runs.writePlan({ projectId, runId }, plan);
}
