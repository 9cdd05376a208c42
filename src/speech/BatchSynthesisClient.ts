import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline as pipeStreams } from "node:stream/promises";
import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type HttpMethods,
  type Pipeline,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import {
  createSpeechError,
  isSpeechServiceError,
  SpeechServiceError,
  SynthesisConflictError,
  sanitizeUrl,
  toTransportError,
} from "./errors.js";
import {
  allowsInsecureConnection,
  createSpeechPipeline,
  logger,
  type SpeechClientOptions,
} from "./httpPipeline.js";
import { assertValidSynthesisId } from "./ids.js";
import {
  type BatchSynthesis,
  type BatchSynthesisRequest,
  operationSchema,
  pageSchema,
  type SynthesisOperation,
  toBatchSynthesis,
} from "./models.js";
import { HttpRangeReader } from "./rangeReader.js";
import {
  makeResultsTempDir,
  openRangedResultsZip,
  openResultsZip,
  removeTempDir,
  type SynthesisResults,
} from "./resultsZip.js";

export const DEFAULT_API_VERSION = "2024-04-01";

/** Whole-body attempts of a results download that breaks mid-stream. */
const MAX_DOWNLOAD_ATTEMPTS = 3;

export type BatchSynthesisClientOptions = SpeechClientOptions;

/** Options every method takes (Azure SDK `OperationOptions` subset). */
export interface OperationOptions {
  abortSignal?: AbortSignal;
}

export interface OpenResultsOptions extends OperationOptions {
  /**
   * The job's `outputs.result` as the poll that saw it succeed returned it: downloaded without reading the
   * job again (that URL is a SAS that may have expired since: then the job is read once for a fresh one).
   */
  resultUrl?: string;
}

export interface ListSynthesesOptions extends OperationOptions {
  /** `maxpagesize` (the service caps it at 100). */
  maxPageSize?: number;
  /** `skip`: number of jobs to skip before the first page. */
  skip?: number;
}

export interface PageSettings {
  /** The `nextLink` of the previous page. */
  continuationToken?: string;
  maxPageSize?: number;
}

/** Same shape as `@azure/core-paging`'s `PagedAsyncIterableIterator`. */
export interface PagedAsyncIterableIterator<T, TPage = T[]> {
  next(): Promise<IteratorResult<T>>;
  [Symbol.asyncIterator](): PagedAsyncIterableIterator<T, TPage>;
  byPage(settings?: PageSettings): AsyncIterableIterator<TPage & { continuationToken?: string }>;
}

/** Marker appended to `description` so a repeated create can tell "same request" from "different request". */
const FINGERPRINT = /\s*\[tts-request:([0-9a-f]{16})\]$/;

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** sha256 of the request without its description, 16 hex chars. */
export function requestFingerprint(request: BatchSynthesisRequest): string {
  const { description: _ignored, ...rest } = request;
  return createHash("sha256").update(stableJson(rest)).digest("hex").slice(0, 16);
}

/** What a GET echoes of a request, compared when the existing job carries no fingerprint. */
function echoedDifferences(existing: BatchSynthesis, request: BatchSynthesisRequest): string[] {
  const differences: string[] = [];
  const same = (a: unknown, b: unknown) =>
    a === undefined || b === undefined || String(a).toLowerCase() === String(b).toLowerCase();
  if (!same(existing.inputKind, request.inputKind)) differences.push("inputKind");
  if (!same(existing.synthesisConfig?.voice, request.synthesisConfig?.voice))
    differences.push("synthesisConfig.voice");
  const p = request.properties ?? {};
  const e = existing.properties;
  if (!same(e.outputFormat, p.outputFormat ?? "riff-24khz-16bit-mono-pcm"))
    differences.push("properties.outputFormat");
  if (!same(e.wordBoundaryEnabled, p.wordBoundaryEnabled ?? false))
    differences.push("properties.wordBoundaryEnabled");
  if (!same(e.sentenceBoundaryEnabled, p.sentenceBoundaryEnabled ?? false))
    differences.push("properties.sentenceBoundaryEnabled");
  if (!same(e.concatenateResult, p.concatenateResult ?? false))
    differences.push("properties.concatenateResult");
  return differences;
}

/** A create refused because the id exists (409, or a 400 that says so; the service's answer is undocumented). */
function isIdConflict(error: SpeechServiceError): boolean {
  if (error.statusCode === 409) return true;
  return (
    error.statusCode === 400 &&
    (/conflict/i.test(`${error.code ?? ""} ${error.innerErrorCode ?? ""}`) ||
      /already exists|not identical/i.test(error.message))
  );
}

/** Result URL failures that mean "the SAS expired or the blob moved": fetch a fresh URL and try again. */
function isExpiredResultUrl(status: number, errorCode: string | undefined): boolean {
  return status === 403 || status === 404 || status === 409 || errorCode === "AuthenticationFailed";
}

/**
 * Client of the Azure AI Speech Batch Synthesis REST API (api-version 2024-04-01): create, get, list,
 * delete and operations, plus streaming access to a job's `results.zip`.
 *
 * Example usage:
 * ```ts
 * const client = new BatchSynthesisClient("https://eastus.api.cognitive.microsoft.com", new AzureKeyCredential(key));
 * const job = await client.createSynthesis("book1-run1-j1-a1", {
 *   inputKind: "PlainText", synthesisConfig: { voice: "en-US-AvaMultilingualNeural" },
 *   inputs: [{ content: "Chapter one." }], properties: { outputFormat: "audio-24khz-96kbitrate-mono-mp3" },
 * });
 * // …poll getSynthesis(job.id) until Succeeded, then:
 * const results = await client.openResults(job.id);
 * try { for await (const entry of results.entries()) (await entry.openAudio()).pipe(somewhere); }
 * finally { await results.close(); }
 * ```
 */
export class BatchSynthesisClient {
  readonly endpoint: string;
  readonly apiVersion: string;
  private readonly pipeline: Pipeline;
  /** Result downloads go to storage with a SAS: same retries, no key or token. */
  private readonly downloadPipeline: Pipeline;
  private readonly httpClient: HttpClient;
  private readonly secrets: string[];
  private readonly options: BatchSynthesisClientOptions;

  constructor(
    endpoint: string,
    credential: KeyCredential | TokenCredential,
    options: BatchSynthesisClientOptions = {},
  ) {
    this.options = options;
    const url = new URL(endpoint);
    this.endpoint = url.origin + url.pathname.replace(/\/+$/, "");
    this.apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    this.pipeline = createSpeechPipeline(credential, options);
    this.downloadPipeline = createSpeechPipeline(undefined, options);
    this.httpClient = options.httpClient ?? createDefaultHttpClient();
    this.secrets = "key" in credential && typeof credential.key === "string" ? [credential.key] : [];
  }

  private url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const url = new URL(`${this.endpoint}/texttospeech${path}`);
    url.searchParams.set("api-version", this.apiVersion);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  private async send(
    method: HttpMethods,
    url: string,
    options: OperationOptions & { body?: unknown } = {},
  ): Promise<{ response: PipelineResponse; body: unknown }> {
    const headers = createHttpHeaders({ Accept: "application/json" });
    if (options.body !== undefined) headers.set("Content-Type", "application/json");
    const request = createPipelineRequest({
      url,
      method,
      headers,
      allowInsecureConnection: allowsInsecureConnection(url, this.options),
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    const response = await this.pipeline.sendRequest(this.httpClient, request).catch((error: unknown) => {
      throw toTransportError(error, this.secrets);
    });
    const text = response.bodyAsText ?? undefined;
    if (response.status >= 400) throw createSpeechError(response, text, this.secrets);
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new SpeechServiceError(
          `The Speech service sent a response that is not JSON (${method} ${sanitizeUrl(url)}).`,
          {
            code: "InvalidResponse",
            statusCode: response.status,
          },
        );
      }
    }
    return { response, body };
  }

  /**
   * Creates a job (PUT). If `id` already exists with the same request, returns the existing job
   * (re-attach, nothing billed twice); if it holds a different request, throws {@link SynthesisConflictError}.
   * The request's fingerprint is appended to `description` to make that comparison exact.
   *
   * The PUT goes first, with no read before it: an id names one job ("must be unique", batch-synthesis.md),
   * so a PUT on an existing id cannot create a second one. The service either answers it as a create of the
   * same job (the emulator, for an identical request) or refuses it (409, or a 400 that says so); only then
   * is the job read, to re-attach or report the conflict. One request per create instead of two.
   */
  async createSynthesis(
    id: string,
    request: BatchSynthesisRequest,
    options: OperationOptions = {},
  ): Promise<BatchSynthesis> {
    // Only the id is checked here (it is part of the URL); body rules are the service's to enforce.
    assertValidSynthesisId(id);
    const fingerprint = requestFingerprint(request);
    const description =
      `${(request.description ?? "").replace(FINGERPRINT, "")} [tts-request:${fingerprint}]`.trim();
    try {
      const { response, body } = await this.send(
        "PUT",
        this.url(`/batchsyntheses/${encodeURIComponent(id)}`),
        {
          ...options,
          body: { ...request, description },
        },
      );
      return toBatchSynthesis(body, response.headers.get("operation-id"));
    } catch (error) {
      // The id exists (a retried submit, a PUT that had landed, or another copy of it): read it to re-attach.
      if (isSpeechServiceError(error) && isIdConflict(error)) {
        const existing = await this.tryGetSynthesis(id, options);
        if (existing) return this.reattach(existing, request, fingerprint);
      }
      throw error;
    }
  }

  private reattach(
    existing: BatchSynthesis,
    request: BatchSynthesisRequest,
    fingerprint: string,
  ): BatchSynthesis {
    const stored = FINGERPRINT.exec(existing.description ?? "")?.[1];
    const differences = stored
      ? stored === fingerprint
        ? []
        : ["inputs or settings"]
      : echoedDifferences(existing, request);
    if (differences.length > 0) throw new SynthesisConflictError(existing.id, differences);
    return existing;
  }

  private async tryGetSynthesis(id: string, options: OperationOptions): Promise<BatchSynthesis | undefined> {
    try {
      return await this.getSynthesis(id, options);
    } catch (error) {
      if (isSpeechServiceError(error) && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /** Reads a job. A missing job is a SpeechServiceError with status 404 (also when the service answers 204). */
  async getSynthesis(id: string, options: OperationOptions = {}): Promise<BatchSynthesis> {
    assertValidSynthesisId(id);
    const { response, body } = await this.send(
      "GET",
      this.url(`/batchsyntheses/${encodeURIComponent(id)}`),
      options,
    );
    if (response.status === 204 || body === undefined) {
      throw new SpeechServiceError(`The batch synthesis "${id}" does not exist.`, {
        code: "NotFound",
        statusCode: 404,
      });
    }
    return toBatchSynthesis(body);
  }

  /** Deletes a job and its results; a job that is already gone is not an error. */
  async deleteSynthesis(id: string, options: OperationOptions = {}): Promise<void> {
    assertValidSynthesisId(id);
    try {
      await this.send("DELETE", this.url(`/batchsyntheses/${encodeURIComponent(id)}`), options);
    } catch (error) {
      if (isSpeechServiceError(error) && error.statusCode === 404) return;
      throw error;
    }
  }

  /** The status monitor of a create (`Operation-Id` / `Operation-Location`). */
  async getOperation(operationId: string, options: OperationOptions = {}): Promise<SynthesisOperation> {
    assertValidSynthesisId(operationId);
    const { body } = await this.send(
      "GET",
      this.url(`/operations/${encodeURIComponent(operationId)}`),
      options,
    );
    return operationSchema.parse(body);
  }

  /** Lists jobs, following `nextLink` verbatim; `byPage()` gives the pages with their `nextLink` as continuation token. */
  listSyntheses(options: ListSynthesesOptions = {}): PagedAsyncIterableIterator<BatchSynthesis> {
    const pages = (settings: PageSettings = {}) => this.listPages(options, settings);
    const all = async function* () {
      for await (const page of pages()) yield* page;
    };
    const iterator = all();
    return {
      next: () => iterator.next(),
      [Symbol.asyncIterator]() {
        return this;
      },
      byPage: (settings?: PageSettings) => pages(settings),
    };
  }

  private async *listPages(
    options: ListSynthesesOptions,
    settings: PageSettings,
  ): AsyncIterableIterator<BatchSynthesis[] & { continuationToken?: string }> {
    let url: string | undefined =
      settings.continuationToken ??
      this.url("/batchsyntheses", {
        skip: options.skip,
        maxpagesize: settings.maxPageSize ?? options.maxPageSize,
      });
    while (url) {
      const { body } = await this.send("GET", url, options);
      const page = pageSchema.parse(body ?? {});
      const next = page.nextLink ?? page["@nextLink"] ?? undefined;
      const items = page.value.map((v) => toBatchSynthesis(v)) as BatchSynthesis[] & {
        continuationToken?: string;
      };
      if (next) items.continuationToken = next;
      yield items;
      url = next;
    }
  }

  /**
   * Opens a finished job's `results.zip` for random access, without downloading it first: a HEAD for its
   * size, one ranged read of its end (end record and central directory, with `summary.json` read next), then
   * each entry's bytes with its own ranged read when the entry is opened, so the first chapter can be stored
   * while the rest of the zip is still at the service. Blob storage honours `Range` with 206 and
   * Content-Range (Get Blob; "Specifying the range header for Blob service operations",
   * https://learn.microsoft.com/rest/api/storageservices/specifying-the-range-header-for-blob-service-operations).
   * A server that answers the ranged read with the whole blob (200) gets the old path: the body is streamed
   * to a temp file and opened from there (close the results to delete it).
   *
   * With `resultUrl` (the `outputs.result` of the poll that saw the job succeed) or a job that has one, the
   * job is not read again; an expired result URL (403/404/409, `AuthenticationFailed`) is refreshed by reading
   * the job, once. `jobReads` on the results counts those reads.
   */
  async openResults(
    idOrSynthesis: string | BatchSynthesis,
    options: OpenResultsOptions = {},
  ): Promise<SynthesisResults> {
    let jobReads = 0;
    const readJob = (id: string) => {
      jobReads++;
      return this.getSynthesis(id, options);
    };
    let job: Pick<BatchSynthesis, "id" | "outputs"> & { status?: string } =
      typeof idOrSynthesis !== "string"
        ? idOrSynthesis
        : options.resultUrl
          ? { id: idOrSynthesis, outputs: { result: options.resultUrl } }
          : await readJob(idOrSynthesis);
    if (!job.outputs?.result) job = await readJob(job.id);
    let refreshed = false;
    for (;;) {
      const resultUrl = job.outputs?.result;
      if (!resultUrl) {
        throw new SpeechServiceError(
          `The batch synthesis "${job.id}" has no results (status ${job.status}).`,
          {
            code: "NoResults",
            statusCode: 404,
          },
        );
      }
      if (!/^https?:\/\//i.test(resultUrl)) {
        throw new RangeError(
          `The results of "${job.id}" were written to its destination container (${resultUrl}); read them there.`,
        );
      }
      const head = await this.sendDownload("HEAD", resultUrl, options);
      const size = Number(head.headers.get("content-length"));
      let failed = head;
      if (head.status === 200 && Number.isSafeInteger(size) && size > 0) {
        const tailStart = Math.max(0, size - TAIL_BYTES);
        const tail = await this.sendDownload("GET", resultUrl, options, [tailStart, size - 1]);
        if (tail.status === 206) {
          const data = await readRangeBody(tail, tailStart, size - 1, size);
          const reader = new HttpRangeReader(
            (start, end) => this.fetchRange(resultUrl, options, start, end, size),
            size,
            { start: tailStart, data },
          );
          const results = await openRangedResultsZip(reader, size, async () => {});
          results.jobReads = jobReads;
          return results;
        }
        if (tail.status === 200) {
          // The Range was ignored: this body is the whole zip.
          const results = await this.downloadWhole(job.id, resultUrl, options, tail);
          results.jobReads = jobReads;
          return results;
        }
        failed = tail;
      }
      const error = createSpeechError(failed, failed.bodyAsText ?? undefined, this.secrets);
      if (!refreshed && isExpiredResultUrl(failed.status, error.code ?? undefined)) {
        refreshed = true;
        job = await readJob(job.id);
        continue;
      }
      throw error;
    }
  }

  /** A GET or HEAD of the result blob (a SAS URL: no key or token), with the download pipeline's retries. */
  private sendDownload(
    method: "GET" | "HEAD",
    url: string,
    options: OperationOptions,
    range?: [number, number],
  ): Promise<PipelineResponse> {
    const request = createPipelineRequest({
      url,
      method,
      headers: createHttpHeaders(range ? { Range: `bytes=${range[0]}-${range[1]}` } : {}),
      allowInsecureConnection: allowsInsecureConnection(url, this.options),
      streamResponseStatusCodes: new Set([200, 206]),
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    return this.downloadPipeline.sendRequest(this.httpClient, request).catch((error: unknown) => {
      throw toTransportError(error, this.secrets);
    });
  }

  /** Bytes `start`…`end` of the zip as a stream; anything but that exact 206 is an error (nothing is stored). */
  private async fetchRange(
    url: string,
    options: OperationOptions,
    start: number,
    end: number,
    size: number,
  ): Promise<NodeJS.ReadableStream> {
    const response = await this.sendDownload("GET", url, options, [start, end]);
    if (response.status === 206 && response.readableStreamBody) {
      checkContentRange(response, start, end, size);
      return response.readableStreamBody;
    }
    discardBody(response);
    if (response.status === 200) {
      throw new SpeechServiceError(
        `results.zip: the server sent the whole blob for bytes ${start}-${end} (it answered ranges before).`,
        { code: "RangeNotHonoured", statusCode: 200 },
      );
    }
    throw createSpeechError(response, response.bodyAsText ?? undefined, this.secrets);
  }

  /**
   * The whole zip to a temp file, then opened from there: for a server that does not answer ranges.
   * `first` is a 200 response already under way; a body that breaks is fetched again, a bounded number of times.
   */
  private async downloadWhole(
    id: string,
    url: string,
    options: OperationOptions,
    first: PipelineResponse,
  ): Promise<SynthesisResults> {
    const dir = await makeResultsTempDir();
    const zipPath = join(dir, "results.zip");
    try {
      let response: PipelineResponse | undefined = first;
      for (let attempt = 1; ; attempt++) {
        response ??= await this.sendDownload("GET", url, options);
        if (response.status !== 200 || !response.readableStreamBody) {
          discardBody(response);
          throw createSpeechError(response, response.bodyAsText ?? undefined, this.secrets);
        }
        try {
          await pipeStreams(response.readableStreamBody, createWriteStream(zipPath));
          break;
        } catch (error) {
          // The connection broke mid-body (the retry policy only covers getting a response): start over.
          if (attempt >= MAX_DOWNLOAD_ATTEMPTS || options.abortSignal?.aborted) throw error;
          logger.warning(
            `results.zip of ${id}: download broke (${(error as Error).message}); attempt ${attempt + 1}.`,
          );
          response = undefined;
        }
      }
    } catch (error) {
      await removeTempDir(dir);
      throw error;
    }
    return openResultsZip(zipPath, () => removeTempDir(dir));
  }
}

/** The end of the zip read first: its end record (at most 64 KB + 22 from the end) and, usually, its directory. */
export const TAIL_BYTES = 256 * 1024;

function discardBody(response: PipelineResponse): void {
  const body = response.readableStreamBody as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
  body?.destroy?.();
}

/** A 206 must say it carries exactly the bytes asked for, of a blob of the size the HEAD gave. */
function checkContentRange(response: PipelineResponse, start: number, end: number, size: number): void {
  const contentRange = response.headers.get("content-range");
  if (contentRange !== `bytes ${start}-${end}/${size}`) {
    discardBody(response);
    throw new SpeechServiceError(
      `results.zip: asked for bytes ${start}-${end} of ${size}, got Content-Range "${contentRange ?? ""}".`,
      { code: "RangeMismatch", statusCode: response.status },
    );
  }
}

async function readRangeBody(
  response: PipelineResponse,
  start: number,
  end: number,
  size: number,
): Promise<Buffer> {
  checkContentRange(response, start, end, size);
  const chunks: Buffer[] = [];
  for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  if (data.length !== end - start + 1)
    throw new Error(`results.zip: bytes ${start}-${end} came back ${data.length} bytes long.`);
  return data;
}
