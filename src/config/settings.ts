import { z } from "zod";

/**
 * App settings (CONTRACT §5), read once from the environment (app settings on Azure,
 * `local.settings.json` under `func start`, the shell under `npm start`).
 * Every value is validated here so a typo fails loudly at start-up, not deep inside a run.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const settingsSchema = z
  .object({
    AzureWebJobsStorage: z.string().min(1).optional(),
    AzureWebJobsStorage__accountName: z.string().min(1).optional(),
    AzureWebJobsStorage__blobServiceUri: z.string().url().optional(),
    AzureWebJobsStorage__queueServiceUri: z.string().url().optional(),
    AzureWebJobsStorage__clientId: z.string().min(1).optional(),
    SPEECH_ENDPOINT: z.string().url().optional(),
    SPEECH_REGION: z.string().min(1).optional(),
    SPEECH_KEY: z.string().min(1).optional(),
    SPEECH_REALTIME_ENDPOINT: z.string().url().optional(),
    /** ARM id of the Speech resource: realtime with Microsoft Entra ID sends `aad#{SPEECH_RESOURCE_ID}#{token}` (CONTRACT §8). */
    SPEECH_RESOURCE_ID: z
      .string()
      .regex(
        /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.CognitiveServices\/accounts\/[^/#]+$/i,
        "the Speech resource's ARM id, /subscriptions/…/resourceGroups/…/providers/Microsoft.CognitiveServices/accounts/…",
      )
      .optional(),
    AZURE_CLIENT_ID: z.string().min(1).optional(),
    CHAPTERS_CONTAINER: z.string().min(3).default("chapters"),
    AUDIO_CONTAINER: z.string().min(3).default("audio"),
    VIDEO_QUEUE: z.string().min(3).default("video-requests"),
    DEFAULT_VOICE: z.string().min(1).default("en-US-AvaMultilingualNeural"),
    DEFAULT_OUTPUT_FORMAT: z.string().min(1).default("audio-24khz-96kbitrate-mono-mp3"),
    SYNTHESIS_MODE: z.enum(["batch", "realtime"]).default("batch"),
    MAX_CHAPTERS_PER_JOB: positiveInt(100),
    MAX_JOB_PAYLOAD_BYTES: positiveInt(1_900_000),
    MAX_CONCURRENT_JOBS: positiveInt(3),
    MAX_CHAPTER_ATTEMPTS: positiveInt(3),
    PRICE_PER_MILLION_CHARACTERS: z.coerce.number().nonnegative().default(15),
    // Pipeline tuning (beyond CONTRACT §5; all optional).
    /** Container for run working state (plans, job lists, per-chapter outcomes); never read by consumers. */
    WORK_CONTAINER: z.string().min(3).default("tts-work"),
    /** Realtime requests in flight per realtime group (realtime mode and fallback). */
    REALTIME_CONCURRENCY: positiveInt(4),
    /** Batch throughput assumed when choosing poll intervals and deadlines (characters of input per second). */
    EXPECTED_BATCH_CHARS_PER_SECOND: positiveInt(500),
    POLL_MIN_SECONDS: positiveInt(5),
    POLL_MAX_SECONDS: positiveInt(60),
    /** A batch job still unfinished this long after submission (or 6x its expected time, if longer) is deleted and its chapters retried. */
    JOB_TIMEOUT_MINUTES: positiveInt(240),
    /**
     * A batch run of more than one wave first sends its first chapters as a small pilot job (this many; 0: no
     * pilot), so the first videos come out within a minute or so instead of after a whole job (planning/pilot.ts).
     */
    PILOT_CHAPTERS: z.coerce.number().int().nonnegative().max(100).default(4),
    /**
     * Least interval between polls of the pilot job once it was first seen running (at most POLL_MIN_SECONDS):
     * the run's first videos wait for it, so it is seen at most this late, for a request or two more.
     */
    PILOT_POLL_SECONDS: positiveInt(2),
    /** Status polls of one batch job per orchestration execution before it continues as new (bounds history). */
    POLLS_PER_EXECUTION: positiveInt(40),
  })
  .refine(
    (s) =>
      s.AzureWebJobsStorage || s.AzureWebJobsStorage__accountName || s.AzureWebJobsStorage__blobServiceUri,
    {
      message:
        "Set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName (identity-based).",
      path: ["AzureWebJobsStorage"],
    },
  )
  .refine((s) => s.SPEECH_ENDPOINT || s.SPEECH_REGION, {
    message: "Set SPEECH_ENDPOINT (custom domain, required for Microsoft Entra ID) or SPEECH_REGION.",
    path: ["SPEECH_ENDPOINT"],
  });

export type Settings = z.infer<typeof settingsSchema>;

/** Names of settings whose values are secrets: never logged, never echoed in errors. */
export const SECRET_SETTINGS = ["AzureWebJobsStorage", "SPEECH_KEY"] as const;

export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

/** Parses settings from an environment map; the error lists every bad setting by name only, never its value. */
export function parseSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const result = settingsSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "settings"}: ${i.message}`);
    throw new SettingsError(`Invalid app settings: ${problems.join("; ")}`);
  }
  return result.data;
}

let cached: { env: NodeJS.ProcessEnv; settings: Settings } | undefined;

/** Settings of this process, parsed on first use (the environment does not change while a worker runs). */
export function getSettings(): Settings {
  if (!cached || cached.env !== process.env) {
    cached = { env: process.env, settings: parseSettings(process.env) };
  }
  return cached.settings;
}
