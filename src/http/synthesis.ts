import { randomBytes } from "node:crypto";
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import { cancelRun } from "../pipeline/cancelRun.js";
import type { ProjectInput } from "../pipeline/contracts.js";
import type { PipelineDeps } from "../pipeline/deps.js";
import { PROJECT_ORCHESTRATOR, projectInstanceId } from "../pipeline/names.js";
import {
  realtimeFormatProblem,
  resolveOptions,
  type StartRequest,
  startRequestSchema,
} from "../pipeline/options.js";
import { listProject, readProjectFile, readProjectPronunciations } from "../pipeline/planning/planRun.js";
import { isActive } from "../pipeline/runControl.js";
import { emptyChapterCounters, emptyJobCounters, type Progress } from "../pipeline/runProgress.js";
import { audioPaths, runPaths } from "../pipeline/runState.js";
import { durableRunControl, findStatus } from "./durableRunControl.js";
import { errorResponse, issueDetails, projectIdOf } from "./errors.js";

const FINAL_STATUSES = new Set(["Completed", "Failed", "Terminated", "Canceled"]);

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
  const projectId = projectIdOf(request);
  const body = await parseStartBody(request);
  if ("response" in body) return body.response;
  // An invalid project.json or pronunciation list (issue 14) is a PlanError: refused (400) before anything
  // runs or is billed.
  const project = await readProjectFile(deps, projectId);
  const refused = realtimeFormatProblem(resolveOptions(body.body, project, deps.settings));
  if (refused) return errorResponse(400, "unsupported-output-format", refused);
  await readProjectPronunciations(deps, projectId);
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
  if (existing && isActive(String(existing.runtimeStatus))) {
    return alreadyRunning(client, projectId, instanceId, existing.runtimeStatus);
  }
  const runId = newRunId(deps.now());
  // A chapter list can be long: it goes to the work container, the orchestration input names it.
  const { chapters, ...startBody } = body.body;
  const input: ProjectInput = { projectId, runId, request: startBody };
  if (chapters) {
    input.chaptersBlob = runPaths.requestedChapters(projectId, runId);
    await deps.runs.writeRequestedChapters({ projectId, runId }, chapters);
  }
  try {
    await client.startNew(PROJECT_ORCHESTRATOR, { instanceId, input });
  } catch (error) {
    // A simultaneous start won between our status read and startNew: the host refuses a second instance
    // with the same id ("An Orchestration instance with the status Running already exists.").
    const current = await findStatus(client, instanceId).catch(() => undefined);
    const active = current && isActive(String(current.runtimeStatus));
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
  const projectId = projectIdOf(request);
  const status = await findStatus(client, projectInstanceId(projectId));
  if (!status) return errorResponse(404, "not-found", `Project ${projectId} has never been started.`);
  return { status: 200, jsonBody: statusBody(projectId, status) };
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
 * `DELETE /api/projects/{projectId}/synthesis`: the cancel use case (src/pipeline/cancelRun.ts) over this
 * worker's run state, Speech client and durable client; 202 with what it did, 404 for a project never started.
 */
export async function cancelSynthesis(
  deps: PipelineDeps,
  client: DurableClient,
  request: HttpRequest,
): Promise<HttpResponseInit> {
  const projectId = projectIdOf(request);
  const result = await cancelRun(
    {
      control: durableRunControl(client),
      state: deps.runs,
      deleteSynthesis: (synthesisId) => deps.speech().batch.deleteSynthesis(synthesisId),
      realtimeConcurrency: deps.settings.REALTIME_CONCURRENCY,
      now: deps.now,
    },
    projectId,
  );
  if (!result.found) return errorResponse(404, "not-found", `Project ${projectId} has never been started.`);
  const { instanceId, runtimeStatus, cancelled, deletedJobs } = result;
  return { status: 202, jsonBody: { projectId, instanceId, runtimeStatus, cancelled, deletedJobs } };
}
