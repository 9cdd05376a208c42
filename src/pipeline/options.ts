import { z } from "zod";
import { canJoin } from "../audio/join.js";
import type { Settings } from "../config/settings.js";
import { findOutputFormat } from "../speech/formats.js";

/** Project id (CONTRACT §3): lowercase letters, digits and inner hyphens, 3–63 characters. */
export const PROJECT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;
export const projectIdSchema = z
  .string()
  .regex(PROJECT_ID_PATTERN, `must match ${PROJECT_ID_PATTERN.source}`);

/** The Batch Synthesis API accepts at most 10,000 inputs per job. */
export const SERVICE_MAX_INPUTS_PER_JOB = 10_000;

const voiceSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9:._()-]*$/, "must be a voice name such as en-US-AvaMultilingualNeural");
const outputFormatSchema = z
  .string()
  .refine((name) => findOutputFormat(name) !== undefined, "is not a known Speech output format")
  .transform((name) => findOutputFormat(name)?.name ?? name);
const chapterIdSchema = z.string().min(1).max(200);

/** Fields shared by the start body and `project.json` (CONTRACT §2, §3). */
const optionFields = {
  voice: voiceSchema,
  outputFormat: outputFormatSchema,
  mode: z.enum(["batch", "realtime"]),
  maxChaptersPerJob: z.number().int().min(1).max(SERVICE_MAX_INPUTS_PER_JOB),
  maxConcurrentJobs: z.number().int().min(1).max(50),
  wordBoundaries: z.boolean(),
  chapters: z.array(chapterIdSchema).min(1).max(100_000),
  force: z.boolean(),
};

/** `POST /api/projects/{id}/synthesis` body: every field optional, unknown fields rejected. */
export const startRequestSchema = z.object(optionFields).partial().strict();
export type StartRequest = z.infer<typeof startRequestSchema>;

/** `project.json`: the same fields as defaults, plus descriptive ones (`title`, `author`, …) that are kept aside. */
export const projectFileSchema = z
  .object({ ...optionFields, title: z.string().max(1000) })
  .partial()
  .loose();
export type ProjectFile = z.infer<typeof projectFileSchema>;

/** What a run actually uses, resolved once by planning: start body, then project.json, then settings. */
export interface EffectiveOptions {
  voice: string;
  outputFormat: string;
  mode: "batch" | "realtime";
  maxChaptersPerJob: number;
  maxConcurrentJobs: number;
  wordBoundaries: boolean;
  chapters?: string[];
  force: boolean;
  title?: string;
}

export function resolveOptions(
  request: StartRequest,
  project: ProjectFile,
  settings: Settings,
): EffectiveOptions {
  const pick = <K extends keyof StartRequest>(key: K) => request[key] ?? project[key];
  const options: EffectiveOptions = {
    voice: pick("voice") ?? settings.DEFAULT_VOICE,
    outputFormat:
      pick("outputFormat") ??
      findOutputFormat(settings.DEFAULT_OUTPUT_FORMAT)?.name ??
      settings.DEFAULT_OUTPUT_FORMAT,
    mode: pick("mode") ?? settings.SYNTHESIS_MODE,
    maxChaptersPerJob: Math.min(
      pick("maxChaptersPerJob") ?? settings.MAX_CHAPTERS_PER_JOB,
      SERVICE_MAX_INPUTS_PER_JOB,
    ),
    maxConcurrentJobs: pick("maxConcurrentJobs") ?? settings.MAX_CONCURRENT_JOBS,
    wordBoundaries: pick("wordBoundaries") ?? true,
    force: pick("force") ?? false,
  };
  const chapters = pick("chapters");
  if (chapters) options.chapters = chapters;
  if (project.title) options.title = project.title;
  return options;
}

/**
 * Realtime mode sends a chapter as several requests and joins their audio, which works for MP3, RIFF and raw
 * formats only: Ogg/WebM Opus (and AMR, SILK) parts are separate streams with their own headers, so a joined file
 * would not play through. Such a project is refused up front in realtime mode (batch mode stores the service's
 * own files as they come). Returns why, or undefined.
 */
export function realtimeFormatProblem(
  options: Pick<EffectiveOptions, "mode" | "outputFormat">,
): string | undefined {
  const format = findOutputFormat(options.outputFormat);
  if (options.mode !== "realtime" || !format || canJoin(format)) return undefined;
  return (
    `${format.name} can't be used in realtime mode: a chapter is synthesized in several requests whose audio is ` +
    `joined, and ${format.container === "webm" ? "WebM" : format.container === "amr" ? "AMR" : "Ogg"} ` +
    "streams can't be joined into one playable file. Use batch mode, or an MP3, RIFF (WAV) or raw format."
  );
}
