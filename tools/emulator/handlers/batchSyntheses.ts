import { createHash, randomUUID } from "node:crypto";
import { API_VERSION, DEFAULT_PAGE_SIZE, ID_PATTERN, MAX_PAGE_SIZE } from "../constants.js";
import type { EmulatorServices, RequestContext } from "../context.js";
import { ErrorFactory } from "../errors.js";
import { parseJsonBody, sendEmpty, sendJson } from "../http.js";
import type { JobRecord } from "../model.js";
import { forgetResultsLayout } from "../resultsArchive.js";
import { jobResultsDir } from "../synthesisEngine.js";
import { billableCharacters } from "../text.js";
import { canonicalJson, validateCreateRequest } from "./validation.js";
import { renderJob } from "./view.js";

/** A job by id after applying the clock and its time-to-live (expired jobs are deleted, S1/S2). */
export function loadJob(services: EmulatorServices, id: string): JobRecord | undefined {
  const job = services.store.getJob(id);
  if (!job) return undefined;
  const current = services.engine.refresh(job);
  if (current.status === "Succeeded" || current.status === "Failed") {
    const ttlMs = services.engine.scaled(current.request.properties.timeToLiveInHours * 3600 * 1000);
    if (services.config.clock.now() > current.lastActionAt + ttlMs) {
      forgetResultsLayout(jobResultsDir(services.store, current));
      services.store.deleteJob(id).catch(() => {});
      return undefined;
    }
  }
  return current;
}

function operationLocation(ctx: RequestContext, operationId: string): string {
  return `${ctx.baseUrl}/texttospeech/operations/${encodeURIComponent(operationId)}?api-version=${API_VERSION}`;
}

function missing(ctx: RequestContext, services: EmulatorServices, id: string): void {
  if (services.config.missingJobStatus === 204) {
    sendEmpty(ctx.res, 204);
    return;
  }
  throw ErrorFactory.notFound(`batch synthesis '${id}'`);
}

/**
 * `PUT /texttospeech/batchsyntheses/{id}`: 201 + Operation-Id + Operation-Location. An identical PUT on an
 * existing id returns that job again (201, not billed twice; Azure's behaviour is UNCONFIRMED); a different
 * request under the id is a conflict (409 by default, EMULATOR_CONFLICT_STATUS=400 for 400).
 */
export async function createSynthesis(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  const id = ctx.params.id as string;
  if (!ID_PATTERN.test(id)) throw ErrorFactory.invalidId("synthesis", id);
  const operationHeader = ctx.req.headers["operation-id"];
  const requestedOperationId =
    typeof operationHeader === "string" && operationHeader.length > 0 ? operationHeader : undefined;
  if (requestedOperationId !== undefined && !ID_PATTERN.test(requestedOperationId)) {
    throw ErrorFactory.invalidId("operation", requestedOperationId);
  }
  // Content-Type is not enforced: `curl -d` sends form encoding, and a JSON body is what matters.
  const request = validateCreateRequest(parseJsonBody(ctx.body), services.config);
  const requestHash = createHash("sha256").update(canonicalJson(request)).digest("hex");

  const existing = loadJob(services, id);
  if (existing) {
    if (existing.requestHash !== requestHash)
      throw ErrorFactory.idConflict(id, services.config.conflictStatus);
    if (requestedOperationId !== undefined && requestedOperationId !== existing.operationId) {
      throw ErrorFactory.operationConflict(requestedOperationId);
    }
    await services.store.updateUsage((u) => {
      u.requests.create += 1;
    });
    sendJson(ctx.res, 201, renderJob(services, ctx.baseUrl, existing), {
      "operation-id": existing.operationId,
      "operation-location": operationLocation(ctx, existing.operationId),
    });
    return;
  }
  const operationId = requestedOperationId ?? randomUUID();
  if (services.store.findJobByOperation(operationId)) throw ErrorFactory.operationConflict(operationId);

  const now = services.config.clock.now();
  const billablePerInput = request.inputs.map((content) => billableCharacters(content, request.inputKind));
  const billable = billablePerInput.reduce((sum, characters) => sum + characters, 0);
  const { startAt, finishAt } = services.engine.plan(now, billablePerInput);
  const job: JobRecord = {
    id,
    instance: randomUUID(),
    operationId,
    requestHash,
    request,
    billableCharacters: billable,
    createdAt: now,
    startAt,
    finishAt,
    status: "NotStarted",
    lastActionAt: now,
  };
  // The job and its count on the bill are durable before the 201 (the store keeps them together).
  await Promise.all([
    services.store.createJob(job),
    services.store.updateUsage((u) => {
      u.requests.create += 1;
    }),
  ]);
  services.engine.start(job);
  sendJson(ctx.res, 201, renderJob(services, ctx.baseUrl, job), {
    "operation-id": operationId,
    "operation-location": operationLocation(ctx, operationId),
  });
}

/** `GET /texttospeech/batchsyntheses/{id}`. */
export async function getSynthesis(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  const id = ctx.params.id as string;
  await services.store.updateUsage((u) => {
    u.requests.get += 1;
  });
  const job = loadJob(services, id);
  if (!job) return missing(ctx, services, id);
  services.downloads.sawStatus(job.id, job.status, services.config.clock.now());
  sendJson(ctx.res, 200, renderJob(services, ctx.baseUrl, job));
}

function pagingParameter(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw ErrorFactory.badRequest(
      `The query parameter '${name}' must be a non-negative integer.`,
      "InvalidQueryParameter",
    );
  }
  return value;
}

/** `GET /texttospeech/batchsyntheses?skip&maxpagesize`: newest first, absolute `nextLink` while more remain. */
export async function listSyntheses(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  await services.store.updateUsage((u) => {
    u.requests.list += 1;
  });
  const skip = pagingParameter(ctx.url.searchParams, "skip", 0);
  const requested = pagingParameter(ctx.url.searchParams, "maxpagesize", DEFAULT_PAGE_SIZE);
  if (requested === 0)
    throw ErrorFactory.badRequest(
      "The query parameter 'maxpagesize' must be between 1 and 100.",
      "InvalidQueryParameter",
    );
  const pageSize = Math.min(requested, MAX_PAGE_SIZE);
  const jobs = services.store
    .listJobs()
    .map((j) => loadJob(services, j.id))
    .filter((j): j is JobRecord => j !== undefined)
    .reverse();
  const page = jobs.slice(skip, skip + pageSize);
  const body: { value: Record<string, unknown>[]; nextLink?: string } = {
    value: page.map((job) => {
      services.downloads.sawStatus(job.id, job.status, services.config.clock.now());
      return renderJob(services, ctx.baseUrl, job);
    }),
  };
  if (skip + pageSize < jobs.length) {
    body.nextLink = `${ctx.baseUrl}/texttospeech/batchsyntheses?skip=${skip + pageSize}&maxpagesize=${pageSize}&api-version=${API_VERSION}`;
  }
  sendJson(ctx.res, 200, body);
}

/** `DELETE /texttospeech/batchsyntheses/{id}`: 204; the job's results go with it (S2). */
export async function deleteSynthesis(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  const id = ctx.params.id as string;
  await services.store.updateUsage((u) => {
    u.requests.delete += 1;
  });
  const job = loadJob(services, id);
  if (!job) return missing(ctx, services, id);
  forgetResultsLayout(jobResultsDir(services.store, job));
  await services.store.deleteJob(id);
  sendEmpty(ctx.res, 204);
}

/** `GET /texttospeech/operations/{operationId}`: `{ id, status }` mirroring the job (S5 get_operation). */
export async function getOperation(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  const operationId = ctx.params.operationId as string;
  await services.store.updateUsage((u) => {
    u.requests.get += 1;
  });
  const job = services.store.findJobByOperation(operationId);
  const current = job ? loadJob(services, job.id) : undefined;
  if (!current) throw ErrorFactory.notFound(`operation '${operationId}'`);
  sendJson(ctx.res, 200, { id: operationId, status: current.status });
}
