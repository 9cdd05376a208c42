import { sanitizeMessage } from "../config/secrets.js";

/**
 * Pipeline events: one structured log line per job state change, plus per-job and per-run metrics.
 *
 * Why the dimensions travel inside the message: in the Node.js v4 programming model `context.log(...args)`
 * reaches the host as one formatted string (`@azure/functions` InvocationModel: `coreCtx.log(level,
 * category, util.format(...args))`); extra arguments are not custom properties
 * (Azure/azure-functions-nodejs-library#227). The host's Application Insights logger stores that string as
 * `traces.message` (with `customDimensions.Category = "Function.<name>.User"`, `InvocationId`, `LogLevel`).
 * So each event is `[tts] <event> key=value … ##{json}`: readable in `npm start`'s output, and in KQL the
 * dimensions are `parse_json(extract("##(\\{.*\\})$", 1, message))` (docs/operations.md).
 *
 * Only identifiers and numbers are logged: never chapter text, never secrets (every string goes through
 * `sanitizeMessage`, the one redaction of src/config/secrets.ts: URL query values, SAS signatures, keys, tokens).
 */

export const EVENT_PREFIX = "[tts] ";
export const JSON_MARK = " ##";

export type PipelineEventName =
  | "run.planned"
  | "run.manifest"
  | "job.submitted"
  | "job.submit-skipped"
  | "job.polled"
  | "job.collected"
  | "job.deleted"
  | "job.retries-planned"
  | "chapter.realtime"
  | "chapter.failed";

/** The dimensions every event may carry (CONTRACT-level names, queried by the workbook and alerts). */
export interface EventDimensions {
  projectId?: string;
  runId?: string;
  jobNumber?: number;
  chapterId?: string;
  synthesisId?: string;
}

export type EventValue = string | number | boolean | null;

export interface PipelineEvent extends EventDimensions {
  event: PipelineEventName;
  level?: "information" | "warning" | "error";
  /** Metrics and states: numbers, booleans and short identifiers only. */
  [metric: string]: EventValue | undefined;
}

/** The part of the Functions InvocationContext the events need (`context.log`, `warn`, `error`). */
export interface EventSink {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const MAX_STRING = 300;

function clean(value: EventValue | undefined): EventValue | undefined {
  if (typeof value === "string") return sanitizeMessage(value).slice(0, MAX_STRING);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  return value;
}

/** `[tts] job.submitted projectId=book runId=r1 jobNumber=1 … ##{"event":"job.submitted",…}` */
export function formatEvent(event: PipelineEvent): string {
  const fields: Record<string, EventValue> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === "level") continue;
    const cleaned = clean(value);
    if (cleaned !== undefined) fields[key] = cleaned;
  }
  const readable = Object.entries(fields)
    .filter(([key]) => key !== "event")
    .map(([key, value]) => `${key}=${String(value).replace(/\s+/g, "_").replace(/#/g, "")}`)
    .join(" ");
  return `${EVENT_PREFIX}${event.event} ${readable}${JSON_MARK}${JSON.stringify(fields)}`;
}

/** Parses a line written by {@link formatEvent} (tests, tooling); undefined for any other line. */
export function parseEvent(message: string): Record<string, EventValue> | undefined {
  if (!message.startsWith(EVENT_PREFIX)) return undefined;
  // The readable part never holds "#", so the first " ##{" starts the JSON.
  const at = message.indexOf(`${JSON_MARK}{`);
  if (at < 0) return undefined;
  try {
    return JSON.parse(message.slice(at + JSON_MARK.length)) as Record<string, EventValue>;
  } catch {
    return undefined;
  }
}

export function emitEvent(sink: EventSink, event: PipelineEvent): void {
  const line = formatEvent(event);
  if (event.level === "error") sink.error(line);
  else if (event.level === "warning") sink.warn(line);
  else sink.log(line);
}
