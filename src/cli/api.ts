import { z } from "zod";
import { PROJECT_ID_PATTERN } from "../pipeline/options.js";

/** Checks a project id client-side (CONTRACT §3) so a typo fails before any request. */
export function assertProjectId(projectId: string): string {
  if (!PROJECT_ID_PATTERN.test(projectId)) {
    throw new UsageError(
      `Invalid project id "${projectId}": use 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.`,
    );
  }
  return projectId;
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The API answered with an error (CONTRACT §3 error shape), or could not be reached. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly details?: unknown,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** GET /api/projects/{id}/synthesis (CONTRACT §3); lenient so a newer server does not break the CLI. */
export const projectStatusSchema = z.looseObject({
  projectId: z.string(),
  instanceId: z.string(),
  runtimeStatus: z.string(),
  phase: z.string().nullish(),
  chapters: z.looseObject({
    total: z.number().default(0),
    succeeded: z.number().default(0),
    failed: z.number().default(0),
    rejected: z.number().default(0),
    unchanged: z.number().default(0),
    pending: z.number().default(0),
  }),
  jobs: z.looseObject({
    submitted: z.number().default(0),
    running: z.number().default(0),
    succeeded: z.number().default(0),
    failed: z.number().default(0),
  }),
  createdTime: z.string().nullish(),
  lastUpdatedTime: z.string().nullish(),
  manifestBlob: z.string().nullish(),
});
export type ProjectStatus = z.infer<typeof projectStatusSchema>;

/** GET /api/projects/{id}/estimate (CONTRACT §3). */
export const estimateSchema = z.looseObject({
  projectId: z.string(),
  chapters: z.number(),
  characters: z.number(),
  billableCharacters: z.number(),
  rejected: z.array(z.looseObject({ chapterId: z.string(), reason: z.string() })).default([]),
  unchanged: z.number().default(0),
  plannedJobs: z.number(),
  estimatedCost: z.looseObject({
    amount: z.number(),
    currency: z.string(),
    pricePerMillionCharacters: z.number(),
  }),
  estimatedAudioMinutes: z.number(),
});
export type Estimate = z.infer<typeof estimateSchema>;

/** The Durable check-status payload returned by POST (202) and, for a running project, by 409. */
export const checkStatusSchema = z.looseObject({
  id: z.string(),
  statusQueryGetUri: z.string().optional(),
  terminatePostUri: z.string().optional(),
});
export type CheckStatus = z.infer<typeof checkStatusSchema>;

/** Body of POST /api/projects/{id}/synthesis (CONTRACT §3). */
/** `DELETE /api/projects/{id}/synthesis` (202): `cancelled` is false when the run had already ended. */
export const cancelAnswerSchema = z.looseObject({
  runtimeStatus: z.string(),
  cancelled: z.boolean(),
});

export interface StartOptions {
  voice?: string;
  outputFormat?: string;
  mode?: "batch" | "realtime";
  maxChaptersPerJob?: number;
  maxConcurrentJobs?: number;
  wordBoundaries?: boolean;
  chapters?: string[];
  force?: boolean;
}

/** Runtime statuses after which a run will not change any more. */
export const TERMINAL_STATUSES = new Set(["Completed", "Failed", "Terminated", "Canceled"]);

export interface ApiClientOptions {
  baseUrl: string;
  /** Function key, sent as `x-functions-key`; never logged. */
  key?: string | undefined;
  timeoutMs?: number;
}

/** Small client for the pipeline's HTTP API (CONTRACT §3). */
export class PipelineApiClient {
  readonly baseUrl: string;
  readonly #key: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#key = options.key;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async startSynthesis(projectId: string, body: StartOptions = {}): Promise<CheckStatus> {
    const res = await this.#request("POST", `/api/projects/${assertProjectId(projectId)}/synthesis`, body);
    return checkStatusSchema.parse(res.body);
  }

  async getStatus(projectId: string): Promise<ProjectStatus> {
    const res = await this.#request("GET", `/api/projects/${assertProjectId(projectId)}/synthesis`);
    return projectStatusSchema.parse(res.body);
  }

  async cancel(projectId: string): Promise<unknown> {
    const res = await this.#request("DELETE", `/api/projects/${assertProjectId(projectId)}/synthesis`);
    return res.body;
  }

  async estimate(projectId: string): Promise<Estimate> {
    const res = await this.#request("GET", `/api/projects/${assertProjectId(projectId)}/estimate`);
    return estimateSchema.parse(res.body);
  }

  /** The Durable status endpoint (works on Azure and on the local host). */
  async getDurableStatus(instanceId: string, options: { showHistory?: boolean } = {}): Promise<unknown> {
    const query = options.showHistory ? "?showHistory=true&showHistoryOutput=false" : "";
    const res = await this.#request(
      "GET",
      `/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}${query}`,
    );
    return res.body;
  }

  async #request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#key) headers["x-functions-key"] = this.#key;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ApiError(
        `Cannot reach the API at ${this.baseUrl} (${cause}). Is the Functions app running (e.g. \`npm start\`), and is --api right?`,
        undefined,
        "unreachable",
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (response.status >= 400) {
      const envelope = errorBodySchema.safeParse(parsed);
      if (envelope.success) {
        const { code, message, details } = envelope.data.error;
        throw new ApiError(message, response.status, code, details, parsed);
      }
      const running = checkStatusSchema.safeParse(parsed);
      if (response.status === 409 && running.success) {
        throw new ApiError(
          `already running as ${running.data.id}; follow it with \`tts-pipeline status <id> --watch\` or cancel it first`,
          409,
          "already-running",
          undefined,
          parsed,
        );
      }
      const fallback =
        response.status === 401 || response.status === 403
          ? "the API refused the request: pass the function key with --key (or TTS_PIPELINE_KEY)"
          : typeof parsed === "string" && parsed
            ? parsed.slice(0, 300)
            : response.statusText || "request failed";
      throw new ApiError(fallback, response.status, `http-${response.status}`, undefined, parsed);
    }
    return { status: response.status, body: parsed };
  }
}
