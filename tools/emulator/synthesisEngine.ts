import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AnonymousCredential, ContainerClient, newPipeline } from "@azure/storage-blob";
import { findOutputFormat, type OutputFormatInfo } from "../../src/speech/formats.js";
import { Semaphore } from "../shared/semaphore.js";
import { AudioTooLongError } from "./audio/codecs.js";
import {
  checkRiffLength,
  estimateDurationMs,
  fastAudio,
  needsRealEncoder,
  renderToFile,
  type SpeechSegment,
} from "./audio/render.js";
import type { ResolvedConfig } from "./config.js";
import { DEGRADE_SLOWDOWN, FAST_AUDIO_INPUTS_THRESHOLD, MIN_RUNNING_MS } from "./constants.js";
import { resolveLexicons } from "./lexicon.js";
import type { JobOutcome, JobRecord, ResultsManifest, UnitManifest } from "./model.js";
import { resultFiles, resultsLayout, writeManifest } from "./resultsArchive.js";
import type { EmulatorStore } from "./store/store.js";
import {
  billableCharacters,
  boundaryJson,
  markers,
  parseSsml,
  plainTextToSpeakable,
  planSegments,
  type SpeakableText,
  type SpeechPlan,
  slowPlan,
} from "./text.js";
import type { ZipLayout } from "./zipLayout.js";

/**
 * Job lifecycle. The simulated timeline (NotStarted → Running → terminal) is fixed at creation from the
 * start latency and the characters to synthesize, in absolute clock time, so it survives restarts and
 * follows an injected clock. Audio is produced in the background meanwhile; a job only reaches its
 * terminal status when both its timeline has elapsed and its results exist.
 */
export class SynthesisEngine {
  /** Limits concurrent audio production (real CPU), independent of the simulated timeline. */
  private readonly workers: Semaphore;
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly store: EmulatorStore,
    private readonly config: ResolvedConfig,
  ) {
    this.workers = new Semaphore(config.workers);
  }

  /** Scales a service duration to emulator time. */
  scaled(ms: number): number {
    return ms / this.config.timeScale;
  }

  /**
   * Timeline of a new job, honouring the optional one-by-one queue (jobConcurrency). The service synthesizes
   * a job's inputs `inputParallelism` at a time (each input at `charsPerSecond`, assigned in order to the
   * least busy lane), so a job of many chapters takes far less than their sum, as batch synthesis does.
   */
  plan(createdAt: number, billablePerInput: readonly number[]): { startAt: number; finishAt: number } {
    let startAt = createdAt + this.scaled(this.config.startLatencyMs);
    const lanes = new Array<number>(
      Math.max(1, Math.min(this.config.inputParallelism, billablePerInput.length)),
    ).fill(0);
    for (const characters of billablePerInput) {
      const lane = lanes.indexOf(Math.min(...lanes));
      lanes[lane] = (lanes[lane] ?? 0) + characters;
    }
    const busiestLane = Math.max(...lanes);
    const processing = this.scaled(
      Math.max(MIN_RUNNING_MS, (busiestLane / this.config.charsPerSecond) * 1000),
    );
    const limit = this.config.jobConcurrency;
    if (limit > 0) {
      const busyUntil = this.store
        .listJobs()
        .map((j) => j.finishAt)
        .filter((t) => t > startAt)
        .sort((a, b) => a - b);
      // Wait for slots: while `limit` or more jobs still run at startAt, start when the earliest ends.
      while (busyUntil.filter((t) => t > startAt).length >= limit) {
        startAt = busyUntil.find((t) => t > startAt) ?? startAt;
      }
    }
    return { startAt, finishAt: startAt + processing };
  }

  /** Brings a job's status up to the clock; persists when it changed. */
  refresh(job: JobRecord): JobRecord {
    const now = this.config.clock.now();
    let status = job.status;
    let lastActionAt = job.lastActionAt;
    if (status === "NotStarted" && now >= job.startAt) {
      status = "Running";
      lastActionAt = job.startAt;
    }
    if (status === "Running" && now >= job.finishAt && job.outcome) {
      status = job.outcome.error && job.outcome.succeededAudioCount === 0 ? "Failed" : "Succeeded";
      lastActionAt = Math.max(job.finishAt, job.producedAt ?? job.finishAt);
    }
    if (status !== job.status) {
      const updated = { ...job, status, lastActionAt };
      // The in-memory record is already current; a failed write (state dir gone) must not crash the host.
      this.store.putJob(updated).catch(() => {});
      return updated;
    }
    return job;
  }

  /** Starts (or resumes after a restart) production of every job without results. */
  resumeAll(): void {
    for (const job of this.store.listJobs()) if (!job.outcome) this.start(job);
  }

  start(job: JobRecord): void {
    const key = job.instance;
    if (this.inFlight.has(key) || this.stopped) return;
    const work = this.workers
      .run(() => this.produce(job))
      .catch(async (error: unknown) => {
        // An emulator bug must not leave the job Running forever: fail it visibly.
        const current = this.store.getJob(job.id);
        if (current && current.instance === job.instance && !this.stopped) {
          const message = error instanceof Error ? error.message : String(error);
          await this.store.putJob({
            ...current,
            producedAt: this.config.clock.now(),
            outcome: {
              sizeInBytes: 0,
              durationInMilliseconds: 0,
              succeededAudioCount: 0,
              failedAudioCount: current.request.inputs.length,
              billedCharacters: 0,
              hasResults: false,
              error: { code: "InternalServerError", message: `Synthesis failed: ${message}` },
            },
          });
        }
      })
      .catch(() => {
        // Recording the failure failed too (state dir gone during shutdown): nothing left to tell.
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
  }

  /** True while the job still exists as this request (deleted or replaced jobs stop producing). */
  private alive(job: JobRecord): boolean {
    const current = this.store.getJob(job.id);
    return !this.stopped && current !== undefined && current.instance === job.instance;
  }

  private async produce(job: JobRecord): Promise<void> {
    const request = job.request;
    const format = findOutputFormat(request.properties.outputFormat) as OutputFormatInfo;
    const dir = jobResultsDir(this.store, job);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    let outcome: JobOutcome;
    if (request.inputs.some(markers.failsJob)) {
      outcome = {
        sizeInBytes: 0,
        durationInMilliseconds: 0,
        succeededAudioCount: 0,
        failedAudioCount: request.inputs.length,
        billedCharacters: 0,
        hasResults: false,
        error: {
          code: "InternalServerError",
          message: "The synthesis job failed (emulator fault [[emulator:fail-job]]).",
        },
      };
    } else {
      const manifest = await this.renderUnits(job, format, dir);
      if (!manifest) return;
      await writeManifest(dir, manifest);
      // The zip's layout (CRCs) exists before the job can turn Succeeded, as Azure's outputs exist when the
      // status says so: serving a range then costs only that range, and no request waits for a zip pass.
      const zip = await resultsLayout(dir, manifest, new Date(job.createdAt));
      const succeeded = manifest.units.filter((u) => u.status === "Succeeded");
      const allFailed = succeeded.length === 0;
      const failedInputs = request.properties.concatenateResult
        ? allFailed
          ? request.inputs.length
          : 0
        : manifest.units.length - succeeded.length;
      outcome = {
        sizeInBytes: succeeded.reduce((sum, u) => sum + u.sizeInBytes, 0),
        durationInMilliseconds: succeeded.reduce((sum, u) => sum + u.durationInMilliseconds, 0),
        succeededAudioCount: request.inputs.length - failedInputs,
        failedAudioCount: failedInputs,
        billedCharacters: succeeded.reduce((sum, u) => sum + u.billedCharacters, 0),
        hasResults: true,
        ...(allFailed
          ? {
              error: {
                code: "SynthesisFailed",
                message: "All inputs failed to synthesize. See summary.json.",
              },
            }
          : {}),
      };
      if (request.properties.destinationContainerUrl && this.alive(job)) {
        try {
          await this.deliver(job, dir, manifest, zip);
        } catch (error) {
          const detail = error instanceof Error ? error.message.split("\n")[0] : "unknown error";
          outcome = {
            ...outcome,
            succeededAudioCount: 0,
            failedAudioCount: request.inputs.length,
            hasResults: false,
            error: {
              code: "InvalidDestination",
              message: `The results could not be written to destinationContainerUrl: ${stripSecrets(detail ?? "")}`,
            },
          };
        }
      }
    }
    if (!this.alive(job)) return;
    const current = this.store.getJob(job.id) as JobRecord;
    // Bill first, once per instance: a crash before the outcome is saved produces the job again after the
    // restart, and billJob then adds nothing (neither lost nor paid twice).
    await this.store.billJob(job.instance, outcome.billedCharacters);
    await this.store.putJob({ ...current, outcome, producedAt: this.config.clock.now() });
  }

  private async renderUnits(
    job: JobRecord,
    format: OutputFormatInfo,
    dir: string,
  ): Promise<ResultsManifest | undefined> {
    const request = job.request;
    const groups: number[][] = request.properties.concatenateResult
      ? [request.inputs.map((_, i) => i)]
      : request.inputs.map((_, i) => [i]);
    const estimatedMs = request.inputs.reduce((sum, content) => sum + estimateDurationMs(content), 0);
    const big =
      estimatedMs > this.config.fastAudioThresholdMs || request.inputs.length > FAST_AUDIO_INPUTS_THRESHOLD;
    const fastMode = this.config.audioMode === "fast" || big ? "fast" : this.config.audioMode;
    // No fast path makes an Ogg/WebM container: Opus formats are always encoded (synthetic voice when fast).
    const mode = needsRealEncoder(format) && fastMode === "fast" ? "synthetic" : fastMode;
    const units: UnitManifest[] = [];
    for (const [g, group] of groups.entries()) {
      if (!this.alive(job)) return undefined;
      // Thousands of inputs: give the event loop a turn between them.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const number = g + 1;
      const audioFileName = `${String(number).padStart(4, "0")}.${format.extension}`;
      const contents = group.map((i) => request.inputs[i] as string);
      const billed = contents.reduce((sum, c) => sum + billableCharacters(c, request.inputKind), 0);
      // Custom lexicons (`<lexicon uri>`) are fetched and applied first; one that cannot be read fails the input.
      const lexicons = await Promise.all(
        contents.map((c) =>
          request.inputKind === "SSML" ? resolveLexicons(c) : { ok: true as const, ssml: c },
        ),
      );
      const badLexicon = lexicons.find((l) => !l.ok);
      const failure = badLexicon
        ? { error: { code: "InvalidLexicon", message: badLexicon.reason } }
        : this.inputFailure(
            lexicons.map((l) => (l.ok ? l.ssml : "")),
            request.inputKind,
            request.synthesisConfig?.voice,
          );
      const base = {
        number,
        contents,
        sidecars: [],
        billedCharacters: 0,
        sizeInBytes: 0,
        durationInMilliseconds: 0,
      };
      if ("error" in failure) {
        units.push({ ...base, status: "Failed", error: failure.error, engine: "none" });
        continue;
      }
      const segments: SpeechSegment[] = failure.speakable.map((s) => ({
        text: s.text,
        language: s.language,
      }));
      const spokenTexts = segments.map((segment) => segment.text);
      // [[emulator:degrade]]: batch output slower than realtime's, so `compare` has a real difference to find.
      const slowdown = contents.some(markers.degrades) ? DEGRADE_SLOWDOWN : 1;
      const plans = planSegments(spokenTexts).map((plan) => slowPlan(plan, slowdown));
      const plannedMs = plans.reduce((sum, plan) => sum + plan.totalMs, 0);
      try {
        checkRiffLength(format, plannedMs);
      } catch (error) {
        if (!(error instanceof AudioTooLongError)) throw error;
        // Only this input fails (cleanly, in summary.json); the rest of the job goes on.
        units.push({
          ...base,
          status: "Failed",
          error: { code: "BadArgument", message: error.message },
          engine: "none",
        });
        continue;
      }
      if (mode === "fast") {
        const audio = fastAudio(format, plannedMs);
        units.push({
          ...base,
          status: "Succeeded",
          audioFileName,
          sizeInBytes: audio.sizeInBytes,
          durationInMilliseconds: audio.durationMs,
          audio: { kind: "fast", format: format.name, durationMs: plannedMs },
          sidecars: await this.writeSidecars(dir, number, plans, request.properties),
          billedCharacters: billed,
          engine: "fast",
        });
        continue;
      }
      const rendered = await renderToFile(segments, format, mode, join(dir, audioFileName), { slowdown });
      units.push({
        ...base,
        status: "Succeeded",
        audioFileName,
        sizeInBytes: rendered.sizeInBytes,
        durationInMilliseconds: rendered.durationMs,
        audio: { kind: "file", file: audioFileName },
        sidecars: await this.writeSidecars(dir, number, rendered.plans, request.properties),
        billedCharacters: billed,
        engine: rendered.engine,
      });
    }
    const anySucceeded = units.some((u) => u.status === "Succeeded");
    return {
      jobId: job.id,
      status: anySucceeded ? "Succeeded" : "Failed",
      extension: format.extension,
      wordBoundaryEnabled: request.properties.wordBoundaryEnabled,
      sentenceBoundaryEnabled: request.properties.sentenceBoundaryEnabled,
      units,
    };
  }

  /**
   * 0001.word.json (and 0001.sentence.json) when asked; sentence files are omitted when empty (S14). Written
   * on the fast path too: regenerating them on every ranged read kept each job's spoken texts in memory for as
   * long as its results were served (~3 MB a 100-chapter job, a fifth of the stack's live heap at three jobs
   * collected at once) and planned the whole chapter again for each of a collect's two reads of the file.
   */
  private async writeSidecars(
    dir: string,
    number: number,
    plans: SpeechPlan[],
    properties: { wordBoundaryEnabled: boolean; sentenceBoundaryEnabled: boolean },
  ): Promise<UnitManifest["sidecars"]> {
    const sidecars: UnitManifest["sidecars"] = [];
    const prefix = String(number).padStart(4, "0");
    const add = async (kind: "word" | "sentence") => {
      const name = `${prefix}.${kind}.json`;
      const data = boundaryJson(plans, kind);
      await writeFile(join(dir, name), data);
      sidecars.push({ name, size: data.length });
    };
    if (properties.wordBoundaryEnabled) await add("word");
    if (properties.sentenceBoundaryEnabled && plans.some((plan) => plan.sentences.length > 0))
      await add("sentence");
    return sidecars;
  }

  private inputFailure(
    contents: string[],
    inputKind: "PlainText" | "SSML",
    voice: string | undefined,
  ): { error: { code: string; message: string } } | { speakable: SpeakableText[] } {
    const speakable: SpeakableText[] = [];
    for (const content of contents) {
      if (markers.failsInBatch(content)) {
        return {
          error: {
            code: "SynthesisFailed",
            message: "The input failed to synthesize (emulator fault marker).",
          },
        };
      }
      if (inputKind === "SSML") {
        const parsed = parseSsml(content);
        if (!parsed.ok) return { error: { code: "InvalidSsml", message: parsed.reason } };
        speakable.push(parsed.value);
      } else {
        speakable.push(plainTextToSpeakable(content, voice));
      }
    }
    return { speakable };
  }

  /** Writes the results into the caller's container: results.zip, or the files unpacked. */
  private async deliver(
    job: JobRecord,
    dir: string,
    manifest: ResultsManifest,
    zip: ZipLayout,
  ): Promise<void> {
    const props = job.request.properties;
    const container = new ContainerClient(
      props.destinationContainerUrl as string,
      newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 3 } }),
    );
    const prefix = destinationPrefix(job);
    if (props.decompressOutputFiles) {
      for (const file of resultFiles(dir, manifest)) {
        await container
          .getBlockBlobClient(`${prefix}/${file.name}`)
          .uploadStream(file.open(), 4 * 1024 * 1024, 2);
      }
    } else {
      await container
        .getBlockBlobClient(`${prefix}/results.zip`)
        .uploadStream(zip.stream(), 4 * 1024 * 1024, 2, {
          blobHTTPHeaders: { blobContentType: "application/zip" },
        });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.inFlight.values());
  }
}

/** Result files of one job instance (a deleted and re-created id never shares files with its predecessor). */
export function jobResultsDir(store: EmulatorStore, job: JobRecord): string {
  return join(store.resultsDir(job.id), job.instance);
}

/** `{destinationPath}/{id}` or `{id}` (S5). */
export function destinationPrefix(job: JobRecord): string {
  const path = job.request.properties.destinationPath?.replace(/^\/+|\/+$/g, "");
  return path ? `${path}/${job.id}` : job.id;
}

/** Removes query strings (SAS signatures) from any URL in a message. */
export function stripSecrets(text: string): string {
  return text.replace(/(https?:\/\/[^\s?"']+)\?[^\s"']*/g, "$1").replace(/sig=[^&\s"']+/g, "sig=REDACTED");
}
