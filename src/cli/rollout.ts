import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { type Command, Option } from "commander";
import { ffmpegAvailable } from "../compare/measure.js";
import { renderReportHtml } from "../compare/report.js";
import { type ChapterComparison, planComparison, runComparison } from "../compare/run.js";
import { parseThresholds } from "../compare/verdict.js";
import type { ProjectFile } from "../pipeline/options.js";
import { createSpeechClients } from "../speech/index.js";
import { UsageError } from "./api.js";
import { positiveInt, projectIdArg } from "./args.js";
import type { CliIo } from "./main.js";
import { type MigrationReport, migrateProject } from "./migrate.js";
import { updateProjectJson } from "./projectFile.js";
import {
  audioContainerName,
  chaptersContainerName,
  localSettingsValues,
  resolveStorage,
  withLocalSpeech,
} from "./storage.js";

/** The publisher's rollout commands (CONTRACT §8): `compare`, `migrate`, `config`. */

interface GlobalOptions {
  api: string;
  json?: boolean;
}

const line = (stream: NodeJS.WritableStream, text = "") => stream.write(`${text}\n`);

/** The app's storage, as `upload` reaches it (Azurite's development storage only for a local API). */
export function storageFor(program: Command, io: CliIo) {
  const globals = program.opts<GlobalOptions>();
  const local = /^https?:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(globals.api);
  const target = resolveStorage(io.env, { cwd: io.cwd, allowDevelopmentStorage: local });
  return {
    ...target,
    chapters: target.blobService.getContainerClient(chaptersContainerName(io.env)),
    audioContainer: audioContainerName(io.env),
    json: Boolean(globals.json),
    local,
  };
}

function printMigration(io: CliIo, report: MigrationReport): void {
  const out = io.stdout;
  line(
    out,
    `${report.applied ? "Migrated" : "Dry run (nothing written; add --apply)"}: project ${report.projectId}`,
  );
  line(out, "Settings → project.json:");
  for (const m of report.mapped) line(out, `  ${m.from} → ${m.to} = ${JSON.stringify(m.value)}`);
  for (const k of report.ignoredKeys) line(out, `  ${k.key}: not carried over (${k.why})`);
  for (const k of report.unknownKeys)
    line(out, `  ${k}: UNKNOWN, not carried over (no counterpart in project.json)`);
  line(
    out,
    `  project.json ${report.projectFileChanged ? "becomes" : "stays"} ${JSON.stringify(report.projectFile)}`,
  );
  line(out, "Chapters:");
  for (const c of report.chapters) {
    const audio = c.audioFile ? ` ← ${c.audioFile}` : "";
    const detail = c.detail ? ` (${c.detail})` : "";
    line(out, `  ${c.chapterId}: ${c.outcome}${audio}${detail}`);
  }
  for (const a of report.audioWithoutText) line(out, `  ${a}: audio with no text, not adopted`);
  const n = report.counts;
  line(
    out,
    `Texts ${n.texts}, matched with audio ${n.matched}, adopted ${n.adopted}, already current ${n.alreadyCurrent}, ` +
      `text without audio ${n.textWithoutAudio}, audio without text ${n.audioWithoutText}, ` +
      `format mismatches ${n.formatMismatches}, voice mismatches ${n.voiceMismatches}, unreadable audio ${n.unreadableAudio}, invalid texts ${n.invalidTexts}.`,
  );
  if (report.applied)
    line(out, `Texts uploaded ${report.texts.uploaded}, unchanged ${report.texts.unchanged}.`);
  for (const note of report.notes) line(out, `Note: ${note}`);
  const toSynthesize = n.textWithoutAudio + n.formatMismatches + n.voiceMismatches + n.unreadableAudio;
  line(
    out,
    `The first run synthesizes ${toSynthesize} chapter(s); check with: tts-pipeline estimate ${report.projectId}`,
  );
  line(out, `Rollback at any time: tts-pipeline config ${report.projectId} --mode realtime`);
}

/** App settings as the CLI sees them: the environment over `local.settings.json`. */
function settingsValues(io: CliIo): Record<string, string | undefined> {
  return { ...localSettingsValues(io.cwd), ...io.env };
}

function printComparedChapter(io: CliIo, c: ChapterComparison): void {
  line(io.stdout, `  ${c.chapterId}: ${c.pass ? "pass" : "FAIL"}`);
  for (const check of c.checks) line(io.stdout, `    ${check.ok ? "✓" : "✗"} ${check.name}: ${check.detail}`);
}

async function askToProceed(io: CliIo, question: string): Promise<boolean> {
  if (io.confirm) return io.confirm(question);
  const stdin = process.stdin;
  if (!stdin.isTTY) return false;
  const rl = createInterface({ input: stdin, output: io.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function registerRolloutCommands(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command("compare")
    .description(
      "synthesize chapters through realtime and compare them with their batch audio (exit 1 when one fails)",
    )
    .argument("<id>", "project id", projectIdArg)
    .option("--sample <n>", "compare n chapters spread over the book (default 3)", positiveInt)
    .option("--chapters <ids>", "compare these chapters (comma-separated ids)", (v: string) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .option("--out <dir>", "also write report.json and report.html to this folder")
    .option("--yes", "do not ask before billing the realtime requests")
    .action(
      async (id: string, options: { sample?: number; chapters?: string[]; out?: string; yes?: boolean }) => {
        if (options.sample && options.chapters)
          throw new UsageError("give --sample or --chapters, not both.");
        const storage = storageFor(program, io);
        const values = withLocalSpeech(settingsValues(io), storage.local);
        const thresholds = parseThresholds(values);
        if (!(await ffmpegAvailable())) throw new Error("compare needs ffmpeg and ffprobe on the PATH.");
        const compareStorage = {
          chapters: storage.chapters,
          audio: storage.blobService.getContainerClient(storage.audioContainer),
        };
        const plan = await planComparison(compareStorage, id, {
          ...(options.sample ? { sample: options.sample } : {}),
          ...(options.chapters ? { chapters: options.chapters } : {}),
        });
        const fresh = plan.targets.filter((t) => !t.reuse).length;
        line(
          io.stderr,
          `Compare ${plan.targets.length} chapter(s) of ${id} (${plan.targets.map((t) => t.chapterId).join(", ")}): ` +
            `${fresh} realtime synthesis(es), ${plan.billableCharacters} billable characters.`,
        );
        if (plan.billableCharacters > 0 && !options.yes && !(await askToProceed(io, "Proceed?"))) {
          throw new UsageError("not confirmed: nothing synthesized (add --yes to proceed without asking).");
        }
        if (!values["SPEECH_ENDPOINT"] && !values["SPEECH_REGION"]) {
          throw new UsageError(
            "set SPEECH_ENDPOINT or SPEECH_REGION (with SPEECH_KEY, or signed in for Microsoft Entra ID).",
          );
        }
        const clients = createSpeechClients({
          SPEECH_ENDPOINT: values["SPEECH_ENDPOINT"],
          SPEECH_REGION: values["SPEECH_REGION"],
          SPEECH_KEY: values["SPEECH_KEY"],
          SPEECH_REALTIME_ENDPOINT: values["SPEECH_REALTIME_ENDPOINT"],
          // Microsoft Entra tokens on the realtime endpoint name the resource (`aad#{resourceId}#{token}`).
          SPEECH_RESOURCE_ID: values["SPEECH_RESOURCE_ID"],
          AZURE_CLIENT_ID: values["AZURE_CLIENT_ID"],
        });
        if (!storage.json) line(io.stdout, `Comparing ${id}, batch against realtime:`);
        const report = await runComparison(compareStorage, plan, {
          realtime: clients.realtime,
          thresholds,
          now: () => new Date(),
          ...(storage.json ? {} : { onChapter: (c: ChapterComparison) => printComparedChapter(io, c) }),
        });
        if (options.out) {
          await mkdir(options.out, { recursive: true });
          await writeFile(join(options.out, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
          await writeFile(join(options.out, "report.html"), renderReportHtml(report));
        }
        if (storage.json) line(io.stdout, JSON.stringify(report, null, 2));
        else {
          const passed = report.chapters.filter((c) => c.pass).length;
          line(
            io.stdout,
            `${report.pass ? "PASS" : "FAIL"}: ${passed} of ${report.chapters.length} chapter(s) within the thresholds.`,
          );
          line(
            io.stdout,
            `Report: ${storage.audioContainer}/${report.reportHtmlBlob} (and report.json)${options.out ? ` and ${options.out}/` : ""}`,
          );
        }
        if (!report.pass) setExitCode(1);
      },
    );

  program
    .command("migrate")
    .description(
      "adopt a project of the old one-request-per-chapter tool: texts, audio, settings (dry run unless --apply)",
    )
    .argument(
      "<dir>",
      "the old project's folder (chapters/, audio/, azure_config.json, processing_config.json)",
    )
    .requiredOption("-p, --project <id>", "project id", projectIdArg)
    .option("--apply", "write: upload texts, adopt audio, write project.json")
    .option("--texts <dir>", "folder of chapter texts (default: chapters/, texts/ or text/ under <dir>)")
    .option("--audio <dir>", "folder of audio files (default: audio/, output/ or mp3/ under <dir>)")
    .action(
      async (dir: string, options: { project: string; apply?: boolean; texts?: string; audio?: string }) => {
        const storage = storageFor(program, io);
        const report = await migrateProject({
          dir,
          projectId: options.project,
          blobService: storage.blobService,
          chaptersContainer: chaptersContainerName(io.env),
          audioContainer: storage.audioContainer,
          apply: Boolean(options.apply),
          ...(options.texts ? { textsDir: options.texts } : {}),
          ...(options.audio ? { audioDir: options.audio } : {}),
          defaults: {
            voice: io.env["DEFAULT_VOICE"] || "en-US-AvaMultilingualNeural",
            outputFormat: io.env["DEFAULT_OUTPUT_FORMAT"] || "audio-24khz-96kbitrate-mono-mp3",
          },
        });
        if (storage.json) line(io.stdout, JSON.stringify(report, null, 2));
        else printMigration(io, report);
      },
    );

  program
    .command("config")
    .description(
      "change a project's settings in chapters/{id}/project.json (e.g. --mode realtime to roll back)",
    )
    .argument("<id>", "project id", projectIdArg)
    .addOption(
      new Option("--mode <mode>", "batch jobs or one request per chapter").choices(["batch", "realtime"]),
    )
    .option("--voice <name>", "voice, e.g. en-US-AvaMultilingualNeural")
    .option("--format <name>", "output format, e.g. audio-24khz-96kbitrate-mono-mp3")
    .option("--max-chapters-per-job <n>", "chapters per batch job", positiveInt)
    .option("--max-concurrent-jobs <n>", "batch jobs running at once", positiveInt)
    .option("--word-boundaries", "make word boundaries and subtitles")
    .option("--no-word-boundaries", "skip word boundaries and subtitles")
    .action(async (id: string, options: Record<string, unknown>) => {
      const changes: Partial<ProjectFile> = {};
      if (options["mode"] === "batch" || options["mode"] === "realtime") changes.mode = options["mode"];
      if (typeof options["voice"] === "string") changes.voice = options["voice"];
      if (typeof options["format"] === "string") changes.outputFormat = options["format"];
      if (typeof options["maxChaptersPerJob"] === "number")
        changes.maxChaptersPerJob = options["maxChaptersPerJob"];
      if (typeof options["maxConcurrentJobs"] === "number")
        changes.maxConcurrentJobs = options["maxConcurrentJobs"];
      // Only an explicit flag changes it: commander defaults a --no-* pair to true.
      const explicit = (name: string) =>
        program.commands.find((c) => c.name() === "config")?.getOptionValueSource(name);
      if (explicit("wordBoundaries") === "cli") changes.wordBoundaries = options["wordBoundaries"] === true;
      if (Object.keys(changes).length === 0) {
        throw new UsageError("nothing to change: give --mode, --voice, --format, … (see --help)");
      }
      const storage = storageFor(program, io);
      const result = await updateProjectJson(storage.chapters, id, changes);
      if (storage.json) line(io.stdout, JSON.stringify(result, null, 2));
      else {
        line(
          io.stdout,
          `${id}/project.json ${result.changed ? "updated" : "already so"}: ${JSON.stringify(result.after)}`,
        );
        line(io.stdout, "The next run uses it; a running one keeps the settings it started with.");
      }
    });
}
