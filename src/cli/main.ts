import path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import {
  ApiError,
  cancelAnswerSchema,
  PipelineApiClient,
  type ProjectStatus,
  type StartOptions,
  TERMINAL_STATUSES,
  UsageError,
} from "./api.js";
import { positiveInt, projectIdArg } from "./args.js";
import { audioContainerName, downloadProject } from "./download.js";
import { createProgressView, describeStatus } from "./progressView.js";
import { registerPronounceCommands } from "./pronounceCommands.js";
import { registerRolloutCommands } from "./rollout.js";
import { chaptersContainerName, resolveStorage } from "./storage.js";
import { uploadProject } from "./upload.js";

/** Exit codes: 0 success; 1 the operation failed (API error, run failed); 2 the command was called wrongly. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  /** Answers a yes/no question (compare's confirmation); without it, and without a terminal, the answer is no. */
  confirm?: (question: string) => Promise<boolean>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether to draw a live progress bar; defaults to stderr being a terminal. */
  tty?: boolean;
  /** Waits between status polls under --watch. */
  sleep?: (ms: number) => Promise<void>;
}

interface GlobalOptions {
  api: string;
  key?: string;
  json?: boolean;
}

const chapterList = (value: string): string[] => {
  const ids = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new InvalidArgumentError("give at least one chapter id, e.g. ch1,ch2.");
  return ids;
};

/** Builds the POST body from `start` options: only what the user set, so project.json and settings apply. */
export function startBodyFromOptions(options: Record<string, unknown>): StartOptions {
  const body: StartOptions = {};
  if (typeof options["voice"] === "string") body.voice = options["voice"];
  if (typeof options["format"] === "string") body.outputFormat = options["format"];
  if (options["mode"] === "batch" || options["mode"] === "realtime") body.mode = options["mode"];
  if (typeof options["maxChaptersPerJob"] === "number") body.maxChaptersPerJob = options["maxChaptersPerJob"];
  if (typeof options["maxConcurrentJobs"] === "number") body.maxConcurrentJobs = options["maxConcurrentJobs"];
  // commander sets wordBoundaries=true by default for a --no-* flag: send it only when turned off.
  if (options["wordBoundaries"] === false) body.wordBoundaries = false;
  if (Array.isArray(options["chapters"])) body.chapters = options["chapters"] as string[];
  if (options["force"] === true) body.force = true;
  return body;
}

function writeLine(stream: NodeJS.WritableStream, text = ""): void {
  stream.write(`${text}\n`);
}

function formatError(error: unknown): string {
  if (error instanceof ApiError) {
    const where = error.status ? ` (HTTP ${error.status})` : "";
    const details =
      error.details === undefined
        ? ""
        : `\n  details: ${JSON.stringify(error.details, null, 2).slice(0, 2000)}`;
    return `error: ${error.code ?? "error"}${where}: ${error.message}${details}`;
  }
  return `error: ${(error as Error).message ?? String(error)}`;
}

/** Polls a project's status until it ends, drawing progress; returns the last status. */
export async function watchProject(
  client: PipelineApiClient,
  projectId: string,
  io: Pick<CliIo, "stderr" | "tty" | "sleep">,
  options: {
    intervalMs?: number;
    timeoutMs?: number;
    retryForMs?: number;
    onStatus?: (s: ProjectStatus) => void;
  } = {},
): Promise<ProjectStatus> {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const view = createProgressView({ stream: io.stderr, ...(io.tty === undefined ? {} : { tty: io.tty }) });
  const deadline = options.timeoutMs ? Date.now() + options.timeoutMs : Number.POSITIVE_INFINITY;
  try {
    let failingSince: number | undefined;
    for (;;) {
      let status: ProjectStatus;
      try {
        status = await client.getStatus(projectId);
        failingSince = undefined;
      } catch (error) {
        // A host restarting (or a 5xx) is no reason to stop watching; give it a while to come back.
        const transient = error instanceof ApiError && (error.status === undefined || error.status >= 500);
        failingSince ??= Date.now();
        if (!transient || Date.now() - failingSince > (options.retryForMs ?? 30_000)) throw error;
        await sleep(options.intervalMs ?? 1_000);
        continue;
      }
      view.update(status);
      options.onStatus?.(status);
      if (TERMINAL_STATUSES.has(status.runtimeStatus)) return status;
      if (Date.now() > deadline) {
        throw new ApiError(
          `Project ${projectId} still ${status.runtimeStatus} after ${Math.round((options.timeoutMs ?? 0) / 1000)} s.`,
          undefined,
          "timeout",
        );
      }
      await sleep(options.intervalMs ?? 1_000);
    }
  } finally {
    view.stop();
  }
}

function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command("tts-pipeline")
    .description("Narrate books with Azure AI Speech batch synthesis: upload chapters, start, watch, cancel.")
    .addOption(
      new Option("--api <url>", "base URL of the Functions app")
        .env("TTS_PIPELINE_API")
        .default("http://localhost:7071"),
    )
    .addOption(new Option("--key <key>", "function key (sent as x-functions-key)").env("TTS_PIPELINE_KEY"))
    .option("--json", "print machine-readable JSON")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError("(run with --help for usage)");

  const clientOf = (): { client: PipelineApiClient; globals: GlobalOptions } => {
    const globals = program.opts<GlobalOptions>();
    return { client: new PipelineApiClient({ baseUrl: globals.api, key: globals.key }), globals };
  };
  const print = (globals: GlobalOptions, value: unknown, human: () => void) => {
    if (globals.json) writeLine(io.stdout, JSON.stringify(value, null, 2));
    else human();
  };

  program
    .command("upload")
    .description("upload a folder's *.txt, *.ssml and project.json to chapters/{project}/")
    .argument("<dir>", "folder holding the chapter files")
    .requiredOption("-p, --project <id>", "project id", projectIdArg)
    .option("--container <name>", "chapters container (default: CHAPTERS_CONTAINER or chapters)")
    .option("--replace", "also delete blobs under {project}/ that are not in the folder")
    .action(async (dir: string, options: { project: string; container?: string; replace?: boolean }) => {
      const { globals } = clientOf();
      const local = /^https?:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(globals.api);
      const target = resolveStorage(io.env, { cwd: io.cwd, allowDevelopmentStorage: local });
      const result = await uploadProject({
        dir,
        projectId: options.project,
        blobService: target.blobService,
        containerName: options.container ?? chaptersContainerName(io.env),
        replace: Boolean(options.replace),
        onFile: globals.json
          ? undefined
          : (name, bytes) => writeLine(io.stderr, `  ${name} (${bytes} bytes)`),
      });
      print(globals, result, () => {
        for (const name of result.uploaded) writeLine(io.stdout, `  ${name}`);
        writeLine(
          io.stdout,
          `Uploaded ${result.uploaded.length} file(s), ${result.bytes} bytes, to ${result.containerName}/${options.project}/ on ${target.description}.`,
        );
        if (result.skipped.length)
          writeLine(io.stdout, `Skipped (not chapters): ${result.skipped.join(", ")}`);
        if (result.deleted.length) writeLine(io.stdout, `Deleted: ${result.deleted.join(", ")}`);
        writeLine(io.stdout, `Next: tts-pipeline estimate ${options.project}`);
      });
    });

  program
    .command("download")
    .description("fetch a project's audio, subtitles and manifest (skips files already there and unchanged)")
    .argument("<id>", "project id", projectIdArg)
    .requiredOption("-o, --out <dir>", "folder to write into (created if missing)")
    .option("--container <name>", "audio container (default: AUDIO_CONTAINER or audio)")
    .action(async (id: string, options: { out: string; container?: string }) => {
      const { globals } = clientOf();
      const local = /^https?:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(globals.api);
      const target = resolveStorage(io.env, { cwd: io.cwd, allowDevelopmentStorage: local });
      const result = await downloadProject({
        projectId: id,
        outDir: path.resolve(io.cwd, options.out),
        blobService: target.blobService,
        containerName: options.container ?? audioContainerName(io.env),
        onFile: globals.json
          ? undefined
          : (name, action, bytes) =>
              writeLine(
                io.stderr,
                `  ${action === "skipped" ? "unchanged" : "fetched"} ${name} (${bytes} bytes)`,
              ),
      });
      print(globals, result, () => {
        writeLine(
          io.stdout,
          `Downloaded ${result.downloaded.length} file(s), ${result.bytes} bytes; ${result.skipped.length} already there; into ${result.outDir} from ${target.description}.`,
        );
        if (result.withoutAudio.length)
          writeLine(io.stdout, `No audio (failed or rejected): ${result.withoutAudio.join(", ")}`);
      });
    });

  program
    .command("estimate")
    .description("dry run: chapters, billable characters, planned jobs and cost (nothing is sent to Speech)")
    .argument("<id>", "project id", projectIdArg)
    .action(async (id: string) => {
      const { client, globals } = clientOf();
      const e = await client.estimate(id);
      print(globals, e, () => {
        writeLine(io.stdout, `Project ${e.projectId}`);
        writeLine(io.stdout, `  chapters:            ${e.chapters} (${e.unchanged} unchanged)`);
        writeLine(io.stdout, `  characters:          ${e.characters} (${e.billableCharacters} billable)`);
        writeLine(io.stdout, `  planned batch jobs:  ${e.plannedJobs}`);
        writeLine(io.stdout, `  audio (estimated):   ${e.estimatedAudioMinutes.toFixed(1)} minutes`);
        writeLine(
          io.stdout,
          `  cost (estimated):    ${e.estimatedCost.amount.toFixed(2)} ${e.estimatedCost.currency} at ${e.estimatedCost.pricePerMillionCharacters} per million characters`,
        );
        for (const r of e.rejected) writeLine(io.stdout, `  rejected: ${r.chapterId}: ${r.reason}`);
      });
    });

  program
    .command("start")
    .description("start narrating a project (POST /api/projects/{id}/synthesis)")
    .argument("<id>", "project id", projectIdArg)
    .option("--voice <name>", "voice, e.g. en-US-AvaMultilingualNeural")
    .option("--format <name>", "output format, e.g. audio-24khz-96kbitrate-mono-mp3")
    .addOption(
      new Option("--mode <mode>", "batch jobs or one request per chapter").choices(["batch", "realtime"]),
    )
    .option("--max-chapters-per-job <n>", "chapters per batch job", positiveInt)
    .option("--max-concurrent-jobs <n>", "batch jobs running at once", positiveInt)
    .option("--no-word-boundaries", "skip word boundaries and subtitles")
    .option("--chapters <ids>", "only these chapters (comma-separated ids)", chapterList)
    .option("--force", "re-synthesize chapters even when unchanged")
    .option("--watch", "then follow progress until the run ends")
    .action(async (id: string, options: Record<string, unknown>) => {
      const { client, globals } = clientOf();
      const started = await client.startSynthesis(id, startBodyFromOptions(options));
      print(globals, started, () => {
        writeLine(io.stdout, `Started ${started.id}.`);
        writeLine(io.stdout, `Follow it with: tts-pipeline status ${id} --watch`);
      });
      if (options["watch"]) setExitCode(await watchAndReport(client, id, globals));
    });

  program
    .command("status")
    .description("show a project's progress (GET /api/projects/{id}/synthesis)")
    .argument("<id>", "project id", projectIdArg)
    .option("-w, --watch", "follow progress until the run ends")
    .option("--interval <seconds>", "seconds between polls with --watch", positiveInt, 2)
    .action(async (id: string, options: { watch?: boolean; interval: number }) => {
      const { client, globals } = clientOf();
      if (options.watch) {
        setExitCode(await watchAndReport(client, id, globals, options.interval * 1000));
        return;
      }
      const status = await client.getStatus(id);
      print(globals, status, () => printStatus(status));
    });

  program
    .command("cancel")
    .description("cancel a run and delete its unfinished batch jobs")
    .argument("<id>", "project id", projectIdArg)
    .action(async (id: string) => {
      const { client, globals } = clientOf();
      const body = await client.cancel(id);
      // The API answers 202 for an ended run too, with `cancelled: false` (src/http/synthesis.ts).
      const ended = cancelAnswerSchema.safeParse(body);
      print(globals, body ?? { projectId: id, cancelled: true }, () =>
        writeLine(
          io.stdout,
          ended.success && !ended.data.cancelled
            ? `${id} is not running (${ended.data.runtimeStatus}); nothing to cancel.`
            : `Cancel requested for ${id}.`,
        ),
      );
    });

  registerRolloutCommands(program, io, setExitCode);

  // Pronunciations (issue 14): `pronounce suggest` and `pronounce try`.
  registerPronounceCommands(program, io, {
    json: () => Boolean(program.opts<GlobalOptions>().json),
    localApi: () => /^https?:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(program.opts<GlobalOptions>().api),
  });

  const printStatus = (status: ProjectStatus) => {
    writeLine(io.stdout, `${status.instanceId}: ${describeStatus(status)}`);
    if (status.manifestBlob) writeLine(io.stdout, `manifest: ${status.manifestBlob}`);
  };

  const watchAndReport = async (
    client: PipelineApiClient,
    id: string,
    globals: GlobalOptions,
    intervalMs = 2_000,
  ): Promise<number> => {
    const final = await watchProject(client, id, io, { intervalMs });
    print(globals, final, () => printStatus(final));
    if (final.runtimeStatus !== "Completed") {
      writeLine(io.stderr, `error: run ended ${final.runtimeStatus}.`);
      return EXIT_FAILED;
    }
    return final.chapters.failed > 0 ? EXIT_FAILED : EXIT_OK;
  };

  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code; never calls process.exit. */
export async function runCli(argv: string[], partialIo: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    ...partialIo,
  };
  let exitCode = EXIT_OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander already printed the reason for anything else.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    writeLine(io.stderr, formatError(error));
    return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  }
}
