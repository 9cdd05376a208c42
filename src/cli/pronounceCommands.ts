import { resolve } from "node:path";
import type { Command } from "commander";
import { parseSettings } from "../config/settings.js";
import { positiveInt, projectIdArg } from "./args.js";
import type { CliIo } from "./main.js";
import { playFile, suggestForProject, tryPronunciation, writeStarterList } from "./pronounce.js";
import { chaptersContainerName, localSettingsValues, resolveStorage, withLocalSpeech } from "./storage.js";

function writeLine(stream: NodeJS.WritableStream, text = ""): void {
  stream.write(`${text}\n`);
}

/** `pronounce suggest <id> [--top N]` and `pronounce try <id> "<text>"` (docs/pronunciation.md). */
export function registerPronounceCommands(
  program: Command,
  io: CliIo,
  globals: { json: () => boolean; localApi: () => boolean },
): void {
  const chaptersOf = () => {
    const target = resolveStorage(io.env, { cwd: io.cwd, allowDevelopmentStorage: globals.localApi() });
    return target.blobService.getContainerClient(chaptersContainerName(io.env));
  };
  const pronounce = program
    .command("pronounce")
    .description(
      "names said right: suggest a pronunciation list, or hear one sentence with the current list",
    );

  pronounce
    .command("suggest")
    .description(
      "find candidate names (capitalized, not sentence-initial, not common words) and write a starter list",
    )
    .argument("<id>", "project id", projectIdArg)
    .option("--top <n>", "how many names", positiveInt, 50)
    .option("--out <file>", "where to write the starter list", "pronunciations.json")
    .option("--overwrite", "replace --out if it exists")
    .action(async (id: string, options: { top: number; out: string; overwrite?: boolean }) => {
      const result = await suggestForProject(chaptersOf(), id, options.top);
      const out = resolve(io.cwd, options.out);
      await writeStarterList(out, result.candidates, Boolean(options.overwrite)).catch((error) => {
        if ((error as NodeJS.ErrnoException).code === "EEXIST")
          throw new Error(`${options.out} exists; pass --overwrite or another --out.`);
        throw error;
      });
      if (globals.json()) {
        writeLine(io.stdout, JSON.stringify({ ...result, out: options.out }, null, 2));
        return;
      }
      writeLine(io.stdout, `Candidate names in ${result.projectId} (${result.chapters} chapters):`);
      for (const c of result.candidates) {
        const where =
          c.chapters.length > 3 ? `${c.chapters.slice(0, 3).join(", ")}, …` : c.chapters.join(", ");
        writeLine(
          io.stdout,
          `  ${String(c.count).padStart(6)}  ${c.text}  (${c.chapters.length} chapter${c.chapters.length === 1 ? "" : "s"}: ${where})`,
        );
      }
      if (result.alreadyListed.length > 0)
        writeLine(io.stdout, `Already listed: ${result.alreadyListed.join(", ")}`);
      writeLine(io.stdout, `Wrote ${result.candidates.length} entries to ${options.out}.`);
      writeLine(
        io.stdout,
        'Fill in each "alias" (or replace it with "phoneme" and "alphabet"), delete names that are fine, then upload it as chapters/' +
          `${id}/pronunciations.json (tts-pipeline upload) and try it: tts-pipeline pronounce try ${id} "…"`,
      );
    });

  pronounce
    .command("try")
    .description("synthesize one sentence with the project's voice and current list (realtime) and save it")
    .argument("<id>", "project id", projectIdArg)
    .argument("<text>", "the sentence to say")
    .option("--out <file>", "audio file to write (default pronounce-<id>.<ext>)")
    .option("--format <name>", "output format (default: project.json, then DEFAULT_OUTPUT_FORMAT)")
    .option("--play", "play it with ffplay when installed")
    .action(async (id: string, text: string, options: { out?: string; format?: string; play?: boolean }) => {
      // Only the Speech settings are used here; storage is reached like `upload` does.
      const values = withLocalSpeech(
        { ...localSettingsValues(io.cwd), ...definedOnly(io.env) },
        globals.localApi(),
      );
      const settings = parseSettings({ AzureWebJobsStorage: "not-used-by-pronounce-try", ...values });
      const result = await tryPronunciation({
        chapters: chaptersOf(),
        projectId: id,
        text,
        settings,
        ...(options.format ? { outputFormat: options.format } : {}),
        cwd: io.cwd,
        ...(options.out ? { out: options.out } : {}),
      });
      if (globals.json()) writeLine(io.stdout, JSON.stringify(result, null, 2));
      else {
        writeLine(
          io.stdout,
          `Said with ${result.voice}: ${result.applied.length ? result.applied.join(", ") : "no listed names"}`,
        );
        writeLine(io.stdout, `SSML: ${result.ssml}`);
        writeLine(io.stdout, `Saved ${result.bytes} bytes (${result.outputFormat}) to ${result.file}`);
      }
      if (options.play && !(await playFile(result.file)))
        writeLine(io.stderr, "Could not play it (is ffplay installed?); open the file above.");
    });
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""),
  );
}
