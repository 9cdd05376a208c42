import type { DurableEngine } from "./durableEngine.js";
import { EventType, EventTypeName, type HistoryEvent } from "./history.js";
import { type InstanceRecord, parseStoredJson } from "./store.js";

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ApiRequest {
  method: string;
  /** Path after the durabletask base, split into decoded segments. */
  segments: string[];
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** The full request URL (for Location headers). */
  url: URL;
}

export interface UrlFactory {
  /** The extension's HttpManagementPayload for an instance, with `origin` as the host. */
  managementPayload(instanceId: string, origin?: string): Record<string, string>;
}

const pageSize = 100;

/**
 * The Durable Functions HTTP API (extension `HttpApiHandler`): served both at the public
 * `/runtime/webhooks/durabletask/` base and at the `rpcBaseUrl` (`/durabletask/`) the JS DurableClient calls.
 */
export async function handleDurableApi(
  engine: DurableEngine,
  urls: UrlFactory,
  request: ApiRequest,
): Promise<ApiResponse> {
  const [resource, id, action, actionArg] = request.segments;
  const method = request.method.toUpperCase();
  if (resource === "orchestrators" && id && method === "POST")
    return startInstance(engine, urls, request, id, action);
  if (resource !== "instances") return notFound();
  if (!id) {
    if (method === "GET") return listInstances(engine, request);
    if (method === "DELETE") return purgeMany(engine, request);
    return methodNotAllowed();
  }
  if (!action) {
    if (method === "GET") return getStatus(engine, request, id);
    if (method === "DELETE") {
      const deleted = await engine.purge(id);
      return deleted > 0 ? { status: 200, body: { instancesDeleted: deleted } } : notFound();
    }
    return methodNotAllowed();
  }
  if (method !== "POST") return methodNotAllowed();
  const reason = request.query.get("reason") ?? "";
  switch (action) {
    case "terminate":
      return commandResponse(await engine.terminate(id, reason));
    case "suspend":
      return commandResponse(await engine.suspend(id, reason));
    case "resume":
      return commandResponse(await engine.resume(id, reason));
    case "raiseEvent": {
      if (!actionArg) return notFound();
      const found = await engine.read(id);
      if (!found) return notFound();
      if (["Completed", "Failed", "Terminated", "Canceled"].includes(found.record.runtimeStatus))
        return { status: 410 };
      const mediaType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
      if (mediaType !== "application/json") {
        return errorResponse(400, "Only application/json request content is supported");
      }
      const body = readJsonBody(request);
      if (!body.ok) return body.response;
      return commandResponse(await engine.raiseEvent(id, actionArg, body.text));
    }
    case "rewind":
    case "restart":
      return { status: 501, body: { Message: `The local host does not implement ${action}.` } };
    default:
      return notFound();
  }
}

/** The request body as JSON text (undefined when empty), or the extension's 400 when it is not JSON. */
function readJsonBody(
  request: ApiRequest,
): { ok: true; text: string | undefined } | { ok: false; response: ApiResponse } {
  const text = request.body.toString("utf8");
  if (text === "") return { ok: true, text: undefined };
  try {
    JSON.parse(text);
  } catch (error) {
    return { ok: false, response: errorResponse(400, "Invalid JSON content", (error as Error).message) };
  }
  return { ok: true, text };
}

function notFound(): ApiResponse {
  return { status: 404 };
}

function methodNotAllowed(): ApiResponse {
  return { status: 405 };
}

function commandResponse(result: "accepted" | "notFound" | "gone"): ApiResponse {
  if (result === "accepted") return { status: 202 };
  if (result === "gone") return { status: 410 };
  return notFound();
}

/** ASP.NET `CreateErrorResponse(status, message, exception)` body, without the stack trace. */
function errorResponse(
  status: number,
  message: string,
  exceptionMessage?: string,
  exceptionType?: string,
): ApiResponse {
  const body: Record<string, string> = { Message: message };
  if (exceptionMessage) body.ExceptionMessage = exceptionMessage;
  if (exceptionType) body.ExceptionType = exceptionType;
  return { status, body };
}

/** DurableClient.StartNewAsync's instance id checks (ArgumentException messages). */
function invalidInstanceId(id: string): string | undefined {
  if (id.startsWith("@")) return "Orchestration instance ids must not start with @.";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is rejected
  if (/[/\\#?\u0000-\u001f\u007f]/.test(id))
    return "Orchestration instance ids must not contain /, \\, #, ?, or control characters.";
  if (id.length > 100) return "Instance ID lengths must not exceed 100 characters.";
  return undefined;
}

/**
 * `HandleStartOrchestratorRequestAsync`: ArgumentExceptions (unknown orchestrator, bad id) become 400 and
 * anything else 500, which is what an id that is still Pending/Running/Suspended gets
 * (`OrchestrationAlreadyExistsException` with the default `overridableExistingInstanceStates`).
 */
async function startInstance(
  engine: DurableEngine,
  urls: UrlFactory,
  request: ApiRequest,
  name: string,
  explicitId: string | undefined,
): Promise<ApiResponse> {
  const badArguments = "One or more of the arguments submitted is incorrect";
  if (!engine.isOrchestrator(name)) {
    const known = engine.orchestratorNames();
    const info =
      known.length > 0
        ? `The following are the known orchestrator functions: '${known.join("', '")}'.`
        : "No orchestrator functions are currently registered!";
    return errorResponse(
      400,
      badArguments,
      `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function. Additional info: ${info}`,
      "System.ArgumentException",
    );
  }
  const instanceId = explicitId ?? crypto.randomUUID().replaceAll("-", "");
  const invalid = invalidInstanceId(instanceId);
  if (invalid) return errorResponse(400, badArguments, invalid, "System.ArgumentException");
  const body = readJsonBody(request);
  if (!body.ok) return body.response;
  const result = await engine.start(name, instanceId, body.text);
  if (result === "conflict") {
    const current = await engine.read(instanceId);
    return errorResponse(
      500,
      "Something went wrong while processing your request",
      `An Orchestration instance with the status ${current?.record.runtimeStatus ?? "Running"} already exists.`,
      "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
    );
  }
  const payload = urls.managementPayload(instanceId, request.url.origin);
  return {
    status: 202,
    headers: { Location: payload.statusQueryGetUri ?? "", "Retry-After": "10" },
    body: payload,
  };
}

/** `yyyy-MM-ddTHH:mm:ssZ`, the extension's status time format. */
function statusTime(iso: string | undefined): string | undefined {
  return iso ? `${iso.slice(0, 19)}Z` : undefined;
}

export function statusBody(record: InstanceRecord, showInput: boolean): Record<string, unknown> {
  return {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.runtimeStatus,
    input: showInput ? parseStoredJson(record.input) : null,
    customStatus: parseStoredJson(record.customStatus),
    output: parseStoredJson(record.output),
    createdTime: statusTime(record.createdTime),
    lastUpdatedTime: statusTime(record.lastUpdatedTime),
  };
}

async function getStatus(
  engine: DurableEngine,
  request: ApiRequest,
  instanceId: string,
): Promise<ApiResponse> {
  const found = await engine.read(instanceId);
  if (!found) return notFound();
  const showInput = request.query.get("showInput") !== "false";
  const body = statusBody(found.record, showInput);
  if (request.query.get("showHistory") === "true") {
    const history = await engine.history(found.record);
    body.historyEvents = friendlyHistory(history, request.query.get("showHistoryOutput") === "true");
  }
  const status = found.record.runtimeStatus;
  if (status === "Running" || status === "Pending" || status === "ContinuedAsNew" || status === "Suspended") {
    return { status: 202, headers: { Location: request.url.href, "Retry-After": "5" }, body };
  }
  if (status === "Failed" && request.query.get("returnInternalServerErrorOnFailure") === "true") {
    return { status: 500, body };
  }
  return { status: 200, body };
}

/** The extension's `showHistory` shape: readable event names, scheduling merged into completions. */
function friendlyHistory(history: HistoryEvent[], showOutput: boolean): Array<Record<string, unknown>> {
  const scheduled = new Map<number, HistoryEvent>();
  for (const event of history) {
    if (
      event.EventType === EventType.TaskScheduled ||
      event.EventType === EventType.SubOrchestrationInstanceCreated
    ) {
      scheduled.set(event.EventId, event);
    }
  }
  const hidden = new Set<number>([
    EventType.OrchestratorStarted,
    EventType.OrchestratorCompleted,
    EventType.TaskScheduled,
    EventType.SubOrchestrationInstanceCreated,
    EventType.TimerCreated,
  ]);
  const result: Array<Record<string, unknown>> = [];
  for (const event of history) {
    if (hidden.has(event.EventType)) continue;
    const item: Record<string, unknown> = {
      EventType: EventTypeName[event.EventType] ?? String(event.EventType),
      Timestamp: event.Timestamp,
    };
    const taskId = event.TaskScheduledId as number | undefined;
    if (typeof taskId === "number") {
      const origin = scheduled.get(taskId);
      item.FunctionName = origin?.Name;
      item.ScheduledTime = origin?.Timestamp;
      if (origin?.InstanceId) item.InstanceId = origin.InstanceId;
    }
    switch (event.EventType) {
      case EventType.ExecutionStarted:
        item.FunctionName = event.Name;
        if (showOutput) item.Input = parseStoredJson(event.Input as string | undefined);
        break;
      case EventType.ExecutionCompleted:
        item.OrchestrationStatus = [
          "Running",
          "Completed",
          "ContinuedAsNew",
          "Failed",
          "Canceled",
          "Terminated",
        ][event.OrchestrationStatus as number];
        if (showOutput) item.Result = parseStoredJson(event.Result as string | undefined);
        break;
      case EventType.TaskCompleted:
      case EventType.SubOrchestrationInstanceCompleted:
        if (showOutput) item.Result = parseStoredJson(event.Result as string | undefined);
        break;
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceFailed:
        item.Reason = event.Reason;
        item.Details = event.Details;
        break;
      case EventType.TimerFired:
        item.FireAt = event.FireAt;
        break;
      case EventType.EventRaised:
        item.Name = event.Name;
        if (showOutput) item.Input = parseStoredJson(event.Input as string | undefined);
        break;
      case EventType.ExecutionTerminated:
        item.Input = parseStoredJson(event.Input as string | undefined);
        break;
    }
    result.push(item);
  }
  return result;
}

async function filtered(engine: DurableEngine, request: ApiRequest): Promise<InstanceRecord[]> {
  const statuses = (request.query.get("runtimeStatus") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  const from = request.query.get("createdTimeFrom");
  const to = request.query.get("createdTimeTo");
  const prefix = request.query.get("instanceIdPrefix") ?? "";
  return (await engine.list())
    .filter((r) => statuses.length === 0 || statuses.includes(r.runtimeStatus.toLowerCase()))
    .filter((r) => !from || new Date(r.createdTime) >= new Date(from))
    .filter((r) => !to || new Date(r.createdTime) <= new Date(to))
    .filter((r) => r.instanceId.startsWith(prefix))
    .sort((a, b) => (a.createdTime < b.createdTime ? -1 : a.createdTime > b.createdTime ? 1 : 0));
}

async function listInstances(engine: DurableEngine, request: ApiRequest): Promise<ApiResponse> {
  const records = await filtered(engine, request);
  const top = Number(request.query.get("top") ?? pageSize) || pageSize;
  const token = request.headers["x-ms-continuation-token"];
  const offset = token ? Number(Buffer.from(token, "base64").toString("utf8")) || 0 : 0;
  const page = records.slice(offset, offset + top);
  const showInput = request.query.get("showInput") === "true";
  const headers: Record<string, string> = {};
  if (offset + top < records.length)
    headers["x-ms-continuation-token"] = Buffer.from(String(offset + top)).toString("base64");
  return { status: 200, headers, body: page.map((r) => statusBody(r, showInput)) };
}

async function purgeMany(engine: DurableEngine, request: ApiRequest): Promise<ApiResponse> {
  const records = (await filtered(engine, request)).filter((r) =>
    ["Completed", "Failed", "Terminated", "Canceled"].includes(r.runtimeStatus),
  );
  let deleted = 0;
  for (const record of records) deleted += await engine.purge(record.instanceId);
  return deleted > 0 ? { status: 200, body: { instancesDeleted: deleted } } : notFound();
}
