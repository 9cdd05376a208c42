import { type Command, InvalidArgumentError, Option } from "commander";
import type { ProjectFile } from "../pipeline/options.js";
import { assertProjectId, UsageError } from "./api.js";
import type { CliIo } from "./main.js";
import { type MigrationReport, migrateProject } from "./migrate.js";
import { updateProjectJson } from "./projectFile.js";
import { audioContainerName, chaptersContainerName, resolveStorage } from "./storage.js";

/** The publisher's rollout commands (CONTRACT §8): `migrate`, `config` (and `compare`, registered from compare.ts). */

interface GlobalOptions {
  api: string;
  json?: boolean;
}

const line = (stream: NodeJS.WritableStream, text = "") => stream.write(`${text}\n`);

const projectIdArg = (value: string): string => {
  try {
    return assertProjectId(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer.");
  return n;
};

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

export function registerRolloutCommands(
  program: Command,
  io: CliIo,
  _setExitCode: (code: number) => void,
): void {
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
