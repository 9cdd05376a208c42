import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { loadApp, readHostJson, readLocalSettings } from "./app.js";
import { FunctionRunner } from "./bindings.js";
import type { AppRegistry, RpcTypedData } from "./core-api.js";
import { DurableEngine, type DurableEngine as Engine, type EngineStats } from "./durable/durableEngine.js";
import { type ApiResponse, handleDurableApi, type UrlFactory } from "./durable/http-api.js";
import { MemoryDurableStore } from "./durable/memory-store.js";
import type { DurableStore } from "./durable/store.js";
import { TableDurableStore } from "./durable/table-store.js";
import { VirtualClock } from "./durable/virtualClock.js";
import { HostLogger } from "./logger.js";
import { startQueueTriggers } from "./queue-trigger.js";
import { buildRoute, type HttpRoute, matchRoute } from "./routes.js";

export interface LocalHostOptions {
  /** Folder with package.json (`main` may be a glob, e.g. "dist/functions/*.js") and host.json. */
  appDir: string;
  /** Default 7071; 0 = a free port. */
  port?: number;
  /** App settings, merged over process.env and local.settings.json Values. */
  env?: Record<string, string>;
  /** Where instances and histories live; default the AzureWebJobsStorage setting. */
  storageConnectionString?: string;
  /**
   * `"memory"`: instances and histories in process memory (golden tests; nothing survives a restart and no
   * storage account is needed for orchestrations); or a store object (recovery tests hand in prepared state).
   * Default: Table storage at the connection string.
   */
  durableStore?: "table" | "memory" | DurableStore;
  /** Default host.json extensions.durableTask.hubName (else "TestHubName"). */
  taskHub?: string;
  /** Durable timers fire this many times sooner (LOCAL_HOST_TIME_SCALE). */
  timeScale?: number;
  logLevel?: "quiet" | "info" | "debug";
}

export interface RunningLocalHost {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Orchestration counters (episodes, replay CPU time, largest history). */
  stats(): EngineStats;
  taskHub: string;
}

const durableWebhookBase = "/runtime/webhooks/durabletask";
const rpcBase = "/durabletask";

/** Starts the local Functions host for one app and resolves when it serves HTTP. */
export async function startLocalHost(options: LocalHostOptions): Promise<RunningLocalHost> {
  const appDir = path.resolve(options.appDir);
  const hostJson = readHostJson(appDir);
  const settings = applySettings(readLocalSettings(appDir), options.env ?? {});
  const logLevel = options.logLevel ?? parseLogLevel(settings.LOCAL_HOST_LOG_LEVEL);
  const logger = new HostLogger(logLevel);
  const durableConfig = hostJson.extensions?.durableTask ?? {};
  const taskHub = options.taskHub ?? settings.LOCAL_HOST_TASK_HUB ?? durableConfig.hubName ?? "TestHubName";
  if (!/^[A-Za-z][A-Za-z0-9]{2,44}$/.test(taskHub)) {
    throw new Error(
      `Task hub name "${taskHub}" is invalid: use 3-45 letters and digits, starting with a letter.`,
    );
  }
  const connectionString = options.storageConnectionString ?? settings.AzureWebJobsStorage;
  const inMemory = options.durableStore !== undefined && options.durableStore !== "table";
  if (!connectionString && !inMemory)
    throw new Error("No storage: set AzureWebJobsStorage (or pass storageConnectionString).");
  const timeScale = options.timeScale ?? Number(settings.LOCAL_HOST_TIME_SCALE ?? "1");

  const registry = await loadApp(appDir, logger);
  const routePrefix = hostJson.extensions?.http?.routePrefix ?? "api";
  const routes = [...registry.functions.values()]
    .filter((fn) => fn.trigger.type.toLowerCase() === "httptrigger")
    .map((fn) => buildRoute(fn, routePrefix))
    .sort((a, b) => specificity(b) - specificity(a));

  const store: DurableStore =
    typeof options.durableStore === "object"
      ? options.durableStore
      : inMemory || !connectionString
        ? new MemoryDurableStore()
        : new TableDurableStore(connectionString, taskHub);
  await store.init();
  const clock = new VirtualClock(timeScale);
  let origin = "";
  let port = 0;
  const urls = managementUrls(taskHub, () => origin);
  const runner = new FunctionRunner({
    registry,
    logger,
    settings,
    queueMessageEncoding: hostJson.extensions?.queues?.messageEncoding ?? "base64",
    durableClientData: () => ({
      taskHubName: taskHub,
      creationUrls: urls.creationUrls(),
      managementUrls: urls.managementPayload("INSTANCEID"),
      baseUrl: `${origin}${durableWebhookBase}`,
      requiredQueryStringParameters: "",
      rpcBaseUrl: `http://127.0.0.1:${port}${rpcBase}/`,
      httpBaseUrl: `${origin}${durableWebhookBase}`,
    }),
  });
  const cores = (await import("node:os")).availableParallelism();
  const engine = new DurableEngine({
    runner,
    store,
    clock,
    logger,
    maxConcurrentActivities: durableConfig.maxConcurrentActivityFunctions ?? 10 * cores,
    maxConcurrentOrchestrations: durableConfig.maxConcurrentOrchestratorFunctions ?? 10 * cores,
    batchSize: durableConfig.storageProvider?.controlQueueBatchSize ?? 32,
  });

  for (const hook of registry.hooksOf("appStart")) await hook({ hookData: {}, functionAppDirectory: appDir });

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res, { engine, urls, runner, routes, logger, registry }).catch((error: unknown) => {
      logger.host(
        "error",
        `Request ${req.method} ${req.url} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const servers: Server[] = [];
  const primary = createServer(handler);
  await listen(primary, options.port ?? 7071, "127.0.0.1");
  servers.push(primary);
  port = (primary.address() as AddressInfo).port;
  // "localhost" may resolve to ::1 first; answer there too when the machine has IPv6.
  const v6 = createServer(handler);
  const hasV6 = await listen(v6, port, "::1").then(
    () => true,
    () => false,
  );
  if (hasV6) servers.push(v6);
  origin = `http://${hasV6 ? "localhost" : "127.0.0.1"}:${port}`;
  // Like Core Tools: a set WEBSITE_HOSTNAME stops getClient from rewriting URLs to localhost:7071.
  process.env.WEBSITE_HOSTNAME ??= `${hasV6 ? "localhost" : "127.0.0.1"}:${port}`;

  const needsKeys = routes.some(
    (r) => String(r.fn.trigger.authLevel ?? "function").toLowerCase() !== "anonymous",
  );
  if (needsKeys)
    logger.host("information", "Auth levels are not enforced locally: any key (or none) is accepted.");
  for (const route of routes) {
    logger.host(
      "information",
      `${route.fn.name}: [${route.methods ? [...route.methods].join(",") : "ALL"}] ${origin}/${route.template}`,
    );
  }
  const stopQueues = startQueueTriggers(runner, logger);
  await engine.recover();

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    taskHub,
    stats: () => engine.stats,
    stop() {
      stopped ??= (async () => {
        await stopQueues();
        for (const server of servers) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
        await engine.stop();
        for (const hook of registry.hooksOf("appTerminate")) await hook({ hookData: {} });
      })();
      return stopped;
    },
  };
}

function parseLogLevel(value: string | undefined): "quiet" | "info" | "debug" {
  return value === "info" || value === "debug" ? value : "quiet";
}

/** local.settings.json Values < process.env < options.env; the app reads them from process.env. */
function applySettings(
  local: Record<string, string>,
  explicit: Record<string, string>,
): Record<string, string> {
  for (const [key, value] of Object.entries(local)) process.env[key] ??= value;
  for (const [key, value] of Object.entries(explicit)) process.env[key] = value;
  const merged: Record<string, string> = { ...local };
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) merged[key] = value;
  return { ...merged, ...explicit };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function specificity(route: HttpRoute): number {
  return route.segments.reduce(
    (score, s) => score + (s.literal !== undefined ? 100 : s.catchAll ? 0 : 10),
    0,
  );
}

interface ManagementUrls extends UrlFactory {
  creationUrls(): Record<string, string>;
}

/** The extension's creation and management URLs (HttpApiHandler / HttpManagementPayload). */
function managementUrls(taskHub: string, origin: () => string): ManagementUrls {
  const query = `taskHub=${taskHub}&connection=Storage`;
  return {
    creationUrls() {
      const base = `${origin()}${durableWebhookBase}`;
      return {
        createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${query}`,
        createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${query}`,
      };
    },
    managementPayload(instanceId: string, requestOrigin?: string) {
      const base = `${requestOrigin ?? origin()}${durableWebhookBase}/instances/${instanceId}`;
      return {
        id: instanceId,
        statusQueryGetUri: `${base}?${query}`,
        sendEventPostUri: `${base}/raiseEvent/{eventName}?${query}`,
        terminatePostUri: `${base}/terminate?reason={text}&${query}`,
        rewindPostUri: `${base}/rewind?reason={text}&${query}`,
        purgeHistoryDeleteUri: `${base}?${query}`,
        restartPostUri: `${base}/restart?${query}`,
        suspendPostUri: `${base}/suspend?reason={text}&${query}`,
        resumePostUri: `${base}/resume?reason={text}&${query}`,
      };
    },
  };
}

interface HandlerDeps {
  engine: Engine;
  urls: UrlFactory;
  runner: FunctionRunner;
  routes: HttpRoute[];
  logger: HostLogger;
  registry: AppRegistry;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps): Promise<void> {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
  const body = await readBody(req);
  const method = (req.method ?? "GET").toUpperCase();
  const segments = url.pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s));
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]),
  ) as Record<string, string | undefined>;

  for (const base of [durableWebhookBase, rpcBase]) {
    const baseSegments = base.split("/").filter((s) => s !== "");
    if (baseSegments.every((s, i) => segments[i]?.toLowerCase() === s)) {
      const response = await handleDurableApi(deps.engine, deps.urls, {
        method,
        segments: segments.slice(baseSegments.length),
        query: url.searchParams,
        headers,
        body,
        url,
      });
      sendApi(res, response);
      return;
    }
  }
  if (url.pathname === "/admin/host/status" || url.pathname === "/admin/host/ping") {
    sendApi(res, { status: 200, body: { state: "Running" } });
    return;
  }
  if (url.pathname === "/admin/local-host/stats") {
    sendApi(res, { status: 200, body: deps.engine.stats });
    return;
  }

  let pathMatched = false;
  for (const route of deps.routes) {
    const params = matchRoute(route, segments);
    if (!params) continue;
    pathMatched = true;
    if (route.methods && !route.methods.has(method)) continue;
    await invokeHttp(route, params, { method, url, headers, body }, res, deps);
    return;
  }
  res.writeHead(pathMatched ? 405 : 404);
  res.end();
}

async function invokeHttp(
  route: HttpRoute,
  params: Record<string, string>,
  request: { method: string; url: URL; headers: Record<string, string | undefined>; body: Buffer },
  res: ServerResponse,
  deps: HandlerDeps,
): Promise<void> {
  const query = Object.fromEntries(request.url.searchParams.entries());
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const http = {
    method: request.method,
    url: request.url.href,
    headers,
    query,
    params,
    body: request.body.length > 0 ? { bytes: new Uint8Array(request.body) } : undefined,
  };
  let data: RpcTypedData | null | undefined;
  try {
    const outcome = await deps.runner.invoke(route.fn, { http }, { ...query, ...params });
    const response = outcome.response;
    const httpOutput = Object.entries(route.fn.metadata.bindings).find(
      ([name, b]) => b.direction === "out" && b.type.toLowerCase() === "http" && name !== "$return",
    );
    data = httpOutput
      ? response.outputData?.find((o) => o.name === httpOutput[0])?.data
      : response.returnValue;
  } catch (error) {
    deps.logger.function(
      route.fn.name,
      "error",
      "system",
      `Executed with an error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    res.writeHead(500);
    res.end();
    return;
  }
  const out = data?.http as
    | {
        statusCode?: string;
        headers?: Record<string, string>;
        cookies?: Array<Record<string, unknown>>;
        body?: RpcTypedData | null;
      }
    | undefined;
  if (!out) {
    res.writeHead(204);
    res.end();
    return;
  }
  const bodyBytes = out.body?.bytes ? Buffer.from(out.body.bytes) : Buffer.alloc(0);
  const responseHeaders: Record<string, string | string[]> = { ...(out.headers ?? {}) };
  const cookies = (out.cookies ?? []).map(formatCookie);
  if (cookies.length > 0) responseHeaders["set-cookie"] = cookies;
  res.writeHead(Number(out.statusCode ?? 200), responseHeaders);
  res.end(bodyBytes);
}

function formatCookie(cookie: Record<string, unknown>): string {
  const value = (field: string) => (cookie[field] as { value?: unknown } | undefined)?.value;
  let text = `${String(cookie.name)}=${String(cookie.value)}`;
  if (value("domain")) text += `; Domain=${String(value("domain"))}`;
  if (value("path")) text += `; Path=${String(value("path"))}`;
  if (value("maxAge") !== undefined) text += `; Max-Age=${String(value("maxAge"))}`;
  if (value("secure")) text += "; Secure";
  if (value("httpOnly")) text += "; HttpOnly";
  return text;
}

function sendApi(res: ServerResponse, response: ApiResponse): void {
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  let payload: string | undefined;
  if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers["Content-Type"] = "application/json; charset=utf-8";
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}
