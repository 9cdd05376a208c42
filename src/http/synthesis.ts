import { randomBytes } from "node:crypto";
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { PipelineDeps } from "../pipeline/deps.js";
import { CANCEL_EVENT, jobInstanceIds, PROJECT_ORCHESTRATOR, projectInstanceId } from "../pipeline/names.js";
import {
  PROJECT_ID_PATTERN,
  projectIdSchema,
  realtimeFormatProblem,
  resolveOptions,
  type StartRequest,
  startRequestSchema,
} from "../pipeline/options.js";
import type { ProjectInput } from "../pipeline/orchestrators.js";
import { PlanError } from "../pipeline/planning/planError.js";
import { listProject, readProjectFile, readProjectPronunciations } from "../pipeline/planning/planRun.js";
import { emptyChapterCounters, emptyJobCounters, type Progress } from "../pipeline/runProgress.js";
import { audioPaths, runPaths } from "../pipeline/runState.js";
import { listBlobs, mapLimit, writeJson } from "../storage/blobs.js";
import { errorResponse, issueDetails } from "./errors.js";

const ACTIVE_STATUSES = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);
const FINAL_STATUSES = new Set(["Completed", "Failed", "Terminated", "Canceled"]);

/** Validates the route's project id; a response when it is bad. */
export function parseProjectId(request: HttpRequest): { projectId: string } | { response: HttpResponseInit } {
  const parsed = projectIdSchema.safeParse(request.params["projectId"] ?? "");
  if (parsed.success) return { projectId: parsed.data };
  return {
    response: errorResponse(
      400,
      "invalid-project-id",
      "The project id must be 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
      {
        pattern: PROJECT_ID_PATTERN.source,
      },
    ),
  };
}

/** Reads the optional JSON body of a start request; a response when it is malformed or invalid. */
export async function parseStartBody(
  request: HttpRequest,
): Promise<{ body: StartRequest } | { response: HttpResponseInit }> {
  const text = await request.text();
  if (text.trim() === "") return { body: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { response: errorResponse(400, "malformed-json", "The request body is not valid JSON.") };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { response: errorResponse(400, "invalid-request", "The request body must be a JSON object.") };
  }
  const parsed = startRequestSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      response: errorResponse(
        400,
        "invalid-request",
        "The request body has invalid or unknown fields.",
        issueDetails(parsed.error),
      ),
    };
  }
  return { body: parsed.data };
}

/** The instance's status, or undefined when it was never started (the SDK throws on 404). */
export async function findStatus(
  client: DurableClient,
  instanceId: string,
  showInput = false,
): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId, { showInput, showHistory: false });
  } catch (error) {
    if (error instanceof Error && /\b404\b/.test(error.message)) return undefined;
    throw error;
  }
}

/** A run id: short, unique per start, fixed in the orchestration input so replays and restarts re-use it. */
export function newRunId(now: Date): string {
  return `r${now.getTime().toString(36)}${randomBytes(3).toString("hex")}`;
}

/** `POST /api/projects/{projectId}/synthesis` */
export async function startSynthesis(
  deps: PipelineDeps,
  client: DurableClient,
  request: HttpRequest,
): Promise<HttpResponseInit> {
  const id = parseProjectId(request);
  if ("response" in id) return id.response;
  const { projectId } = id;
  const body = await parseStartBody(request);
  if ("response" in body) return body.response;
  try {
    const project = await readProjectFile(deps, projectId);
    const refused = realtimeFormatProblem(resolveOptions(body.body, project, deps.settings));
    if (refused) return errorResponse(400, "unsupported-output-format", refused);
    // Pronunciations (issue 14): an invalid list is refused here, before anything runs or is billed.
    await readProjectPronunciations(deps, projectId);
  } catch (error) {
    if (error instanceof PlanError) return errorResponse(400, error.code, error.message, error.details);
    throw error;
  }
  const listing = await listProject(deps, projectId);
  if (listing.chapters.length === 0) {
    return errorResponse(
      404,
      "no-chapters",
      `No chapters (.txt or .ssml) under ${deps.settings.CHAPTERS_CONTAINER}/${projectId}/.`,
    );
  }
  if (body.body.chapters) {
    const known = new Set(listing.chapters.map((c) => c.chapterId));
    const unknown = body.body.chapters.filter((c) => !known.has(c));
    if (unknown.length > 0) {
      return errorResponse(400, "unknown-chapters", "Some requested chapters do not exist.", {
        chapters: unknown.slice(0, 100),
      });
    }
  }
  const instanceId = projectInstanceId(projectId);
  const existing = await findStatus(client, instanceId);
  if (existing && ACTIVE_STATUSES.has(existing.runtimeStatus)) {
    return alreadyRunning(client, projectId, instanceId, existing.runtimeStatus);
  }
  const runId = newRunId(deps.now());
  // A chapter list can be long: it goes to the work container, the orchestration input names it.
  const { chapters, ...startBody } = body.body;
  const input: ProjectInput = { projectId, runId, request: startBody };
  if (chapters) {
    await deps.work.createIfNotExists();
    input.chaptersBlob = runPaths.requestedChapters(projectId, runId);
    await writeJson(deps.work, input.chaptersBlob, { chapters });
  }
  try {
    await client.startNew(PROJECT_ORCHESTRATOR, { instanceId, input });
  } catch (error) {
    // A simultaneous start won between our status read and startNew: the host refuses a second instance
    // with the same id ("An Orchestration instance with the status Running already exists.").
    const current = await findStatus(client, instanceId).catch(() => undefined);
    const active = current && ACTIVE_STATUSES.has(String(current.runtimeStatus));
    if (active || (error instanceof Error && /already exists/i.test(error.message))) {
      return alreadyRunning(client, projectId, instanceId, String(current?.runtimeStatus ?? "Running"));
    }
    throw error;
  }
  const response = client.createCheckStatusResponse(request, instanceId);
  return { status: 202, headers: response.headers, jsonBody: await response.json() };
}

/** 409 with the running instance's check-status payload (CONTRACT §3). */
function alreadyRunning(
  client: DurableClient,
  projectId: string,
  instanceId: string,
  runtimeStatus: string,
): HttpResponseInit {
  return {
    status: 409,
    jsonBody: {
      ...client.createHttpManagementPayload(instanceId),
      error: {
        code: "already-running",
        message: `Project ${projectId} is already running (${runtimeStatus}).`,
      },
    },
  };
}

/** `GET /api/projects/{projectId}/synthesis`: CONTRACT §3's shape, from the durable status. */
export async function getSynthesisStatus(
  _deps: PipelineDeps,
  client: DurableClient,
  request: HttpRequest,
): Promise<HttpResponseInit> {
  const id = parseProjectId(request);
  if ("response" in id) return id.response;
  const instanceId = projectInstanceId(id.projectId);
  const status = await findStatus(client, instanceId);
  if (!status) return errorResponse(404, "not-found", `Project ${id.projectId} has never been started.`);
  return { status: 200, jsonBody: statusBody(id.projectId, status) };
}

export function statusBody(projectId: string, status: DurableOrchestrationStatus) {
  const progress = (status.customStatus ?? undefined) as Partial<Progress> | undefined;
  const runtimeStatus = String(status.runtimeStatus);
  const phase =
    runtimeStatus === "Terminated"
      ? "cancelled"
      : runtimeStatus === "Failed"
        ? "failed"
        : runtimeStatus === "Pending"
          ? "pending"
          : (progress?.phase ?? "planning");
  const iso = (d: Date | string | undefined) => (d ? new Date(d).toISOString() : null);
  // A terminated (cancelled) or failed run never published its last counters: nothing runs any more.
  const ended = FINAL_STATUSES.has(runtimeStatus);
  const jobs = { ...emptyJobCounters(), ...(progress?.jobs ?? {}) };
  const realtime = { running: 0, completed: 0, ...(progress?.realtime ?? {}) };
  if (ended) {
    jobs.running = 0;
    realtime.running = 0;
  }
  return {
    projectId,
    instanceId: status.instanceId,
    runtimeStatus,
    phase,
    chapters: { ...emptyChapterCounters(), ...(progress?.chapters ?? {}) },
    jobs,
    realtime,
    runId: progress?.runId ?? null,
    createdTime: iso(status.createdTime),
    lastUpdatedTime: iso(status.lastUpdatedTime),
    manifestBlob: progress?.manifestBlob ?? audioPaths.manifest(projectId),
    ...(runtimeStatus === "Completed" && status.output ? { totals: status.output } : {}),
  };
}

/**
 * `DELETE /api/projects/{projectId}/synthesis`: stops submissions, terminates the run and its job
 * sub-orchestrations, then deletes every batch job the run may have created at the service.
 */
export async function cancelSynthesis(
  deps: PipelineDeps,
  client: DurableClient,
  request: HttpRequest,
): Promise<HttpResponseInit> {
  const id = parseProjectId(request);
  if ("response" in id) return id.response;
  const { projectId } = id;
  const instanceId = projectInstanceId(projectId);
  const status = await findStatus(client, instanceId, true);
  if (!status) return errorResponse(404, "not-found", `Project ${projectId} has never been started.`);
  const runId = (status.input as Partial<ProjectInput> | undefined)?.runId;
  const wasActive = ACTIVE_STATUSES.has(String(status.runtimeStatus));
  let deletedJobs = 0;
  if (runId) {
    await deps.work.createIfNotExists();
    await writeJson(deps.work, runPaths.cancelled(projectId, runId), {
      cancelledAt: deps.now().toISOString(),
    });
  }
  if (wasActive) {
    // A suspended run cannot take the event; it is terminated as it stands.
    if (String(status.runtimeStatus) !== "Suspended") await publishCancelled(client, instanceId);
    await client.terminate(instanceId, "Cancelled by request.").catch(() => undefined);
  }
  if (runId) {
    const jobs = await listBlobs(deps.work, `${projectId}/${runId}/jobs/`);
    await mapLimit(jobs, 8, async (blob) => {
      const jobNumber = Number(/(\d+)\.json$/.exec(blob.name)?.[1]);
      if (!Number.isInteger(jobNumber)) return;
      // The job's own sub-orchestration, its collector and its realtime lanes (ids in names.ts).
      for (const child of jobInstanceIds(instanceId, runId, jobNumber, deps.settings.REALTIME_CONCURRENCY)) {
        const childStatus = await findStatus(client, child).catch(() => undefined);
        if (childStatus && ACTIVE_STATUSES.has(String(childStatus.runtimeStatus))) {
          await client.terminate(child, "Project cancelled.").catch(() => undefined);
        }
      }
    });
    deletedJobs = await deleteSubmittedJobs(deps, projectId, runId);
  }
  return {
    status: 202,
    jsonBody: {
      projectId,
      instanceId,
      runtimeStatus: wasActive ? "Terminated" : String(status.runtimeStatus),
      cancelled: wasActive,
      deletedJobs,
    },
  };
}

/** How long a cancel waits for the run to publish its cancelled status before terminating it anyway. */
const CANCEL_PUBLISH_TIMEOUT_MS = 10_000;
const CANCEL_POLL_MS = 100;

/**
 * Raises the cancel event and waits (bounded) until the run has published phase `cancelled` or stopped:
 * a terminated run keeps its last customStatus, which must not say jobs are still running.
 */
async function publishCancelled(client: DurableClient, instanceId: string): Promise<void> {
  try {
    await client.raiseEvent(instanceId, CANCEL_EVENT, null);
  } catch {
    return; // it just ended, or cannot take events: terminate as before
  }
  const deadline = Date.now() + CANCEL_PUBLISH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const status = await findStatus(client, instanceId).catch(() => undefined);
    if (!status || !ACTIVE_STATUSES.has(String(status.runtimeStatus))) return;
    if ((status.customStatus as Partial<Progress> | null | undefined)?.phase === "cancelled") return;
    await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
  }
}

/** Deletes at the service every batch job the run recorded as possibly created; returns how many. */
export async function deleteSubmittedJobs(
  deps: PipelineDeps,
  projectId: string,
  runId: string,
): Promise<number> {
  const markers = await listBlobs(deps.work, runPaths.submittedPrefix(projectId, runId));
  const speech = deps.speech();
  await mapLimit(markers, 4, async (marker) => {
    const synthesisId = marker.name.slice(marker.name.lastIndexOf("/") + 1).replace(/\.json$/, "");
    await speech.batch.deleteSynthesis(synthesisId);
    await deps.work.getBlobClient(marker.name).deleteIfExists();
  });
  return markers.length;
}
