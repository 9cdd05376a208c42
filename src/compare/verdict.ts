import { z } from "zod";
import { countWords } from "../pipeline/planning/chapters.js";
import type { WordBoundary } from "../speech/models.js";
import type { AudioMeasurement } from "./measure.js";

/**
 * How close batch audio must be to realtime audio of the same chapter (settings `COMPARE_*`, CONTRACT §8).
 * Defaults allow what the services legitimately vary by (a few percent of pacing, a dB of loudness) and
 * catch what a listener would notice (a slower voice, a quieter chapter, long silences, lost timings).
 */
const number = (fallback: number, check: (n: z.ZodNumber) => z.ZodNumber = (n) => n) =>
  z.preprocess((v) => (v === "" ? undefined : v), check(z.coerce.number()).default(fallback));

export const thresholdsSchema = z.object({
  /** |batch ÷ realtime duration − 1| at most. */
  COMPARE_MAX_DURATION_DEVIATION: number(0.1, (n) => n.min(0)),
  /** |batch − realtime integrated loudness| at most, in LU. */
  COMPARE_MAX_LOUDNESS_DIFF_LU: number(2, (n) => n.min(0)),
  /** |batch − realtime| share of leading, trailing and inside silence, each at most (0–1). */
  COMPARE_MAX_SILENCE_SHARE_DIFF: number(0.1, (n) => n.min(0).max(1)),
  /** |batch ÷ realtime bit rate − 1| at most. */
  COMPARE_MAX_BITRATE_DEVIATION: number(0.1, (n) => n.min(0)),
  /** Words with a timing ÷ words in the text, at least (batch word boundaries). */
  COMPARE_MIN_WORD_COVERAGE: number(0.95, (n) => n.min(0).max(1)),
  /** silencedetect level and shortest stretch. */
  COMPARE_SILENCE_NOISE_DB: number(-50, (n) => n.max(0)),
  COMPARE_SILENCE_MIN_SECONDS: number(0.3, (n) => n.positive()),
});
export type Thresholds = z.infer<typeof thresholdsSchema>;

export function parseThresholds(env: NodeJS.ProcessEnv): Thresholds {
  const result = thresholdsSchema.safeParse(env);
  if (!result.success) {
    throw new Error(
      `Invalid compare settings: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return result.data;
}

export interface WordTiming {
  wordsInText: number;
  wordsTimed: number;
  coverage: number;
  /** Offsets never go back and stay inside the audio. */
  monotonic: boolean;
}

/** Word-boundary quality of a batch output against its text (words counted as the planner counts them). */
export function wordTiming(
  text: string,
  kind: "text" | "ssml",
  words: readonly WordBoundary[],
  durationSeconds: number,
): WordTiming {
  const wordsInText = countWords(text, kind);
  const wordsTimed = words.filter((w) => /[\p{L}\p{N}]/u.test(w.text)).length;
  let monotonic = true;
  let previous = -1;
  for (const w of words) {
    if (w.offsetMs < previous || w.offsetMs > durationSeconds * 1000 + 50) monotonic = false;
    previous = w.offsetMs;
  }
  return { wordsInText, wordsTimed, coverage: wordsInText ? wordsTimed / wordsInText : 1, monotonic };
}

export interface Check {
  name: "format" | "bitrate" | "duration" | "loudness" | "silence" | "words";
  ok: boolean;
  detail: string;
}

export interface ChapterMetrics {
  durationRatio: number;
  loudnessDiffLu: number | null;
  silenceShareDiff: { leading: number; trailing: number; inside: number };
  bitrateRatio: number | null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The per-chapter checks and the metrics they are made of. */
export function judgeChapter(
  batch: AudioMeasurement,
  realtime: AudioMeasurement,
  words: WordTiming | null,
  t: Thresholds,
): { metrics: ChapterMetrics; checks: Check[]; pass: boolean } {
  const metrics: ChapterMetrics = {
    durationRatio:
      realtime.durationSeconds > 0 ? batch.durationSeconds / realtime.durationSeconds : Number.NaN,
    loudnessDiffLu:
      batch.integratedLufs === null || realtime.integratedLufs === null
        ? null
        : batch.integratedLufs - realtime.integratedLufs,
    silenceShareDiff: {
      leading: batch.silence.leadingShare - realtime.silence.leadingShare,
      trailing: batch.silence.trailingShare - realtime.silence.trailingShare,
      inside: batch.silence.insideShare - realtime.silence.insideShare,
    },
    bitrateRatio: batch.bitRate && realtime.bitRate ? batch.bitRate / realtime.bitRate : null,
  };
  const checks: Check[] = [];
  const sameFormat =
    batch.codec === realtime.codec &&
    batch.sampleRate === realtime.sampleRate &&
    batch.channels === realtime.channels;
  checks.push({
    name: "format",
    ok: sameFormat,
    detail: `batch ${batch.codec} ${batch.sampleRate} Hz ×${batch.channels}, realtime ${realtime.codec} ${realtime.sampleRate} Hz ×${realtime.channels}`,
  });
  checks.push(
    metrics.bitrateRatio === null
      ? { name: "bitrate", ok: true, detail: "not stated by the container" }
      : {
          name: "bitrate",
          ok: Math.abs(metrics.bitrateRatio - 1) <= t.COMPARE_MAX_BITRATE_DEVIATION,
          detail: `ratio ${metrics.bitrateRatio.toFixed(3)} (allowed ±${pct(t.COMPARE_MAX_BITRATE_DEVIATION)})`,
        },
  );
  checks.push({
    name: "duration",
    ok: Math.abs(metrics.durationRatio - 1) <= t.COMPARE_MAX_DURATION_DEVIATION,
    detail: `ratio ${metrics.durationRatio.toFixed(3)} (allowed ±${pct(t.COMPARE_MAX_DURATION_DEVIATION)})`,
  });
  checks.push(
    metrics.loudnessDiffLu === null
      ? {
          name: "loudness",
          ok: batch.integratedLufs === realtime.integratedLufs,
          detail: "too short or silent to measure in one of them",
        }
      : {
          name: "loudness",
          ok: Math.abs(metrics.loudnessDiffLu) <= t.COMPARE_MAX_LOUDNESS_DIFF_LU,
          detail: `difference ${metrics.loudnessDiffLu.toFixed(1)} LU (allowed ±${t.COMPARE_MAX_LOUDNESS_DIFF_LU})`,
        },
  );
  const worstSilence = Math.max(...Object.values(metrics.silenceShareDiff).map(Math.abs));
  checks.push({
    name: "silence",
    ok: worstSilence <= t.COMPARE_MAX_SILENCE_SHARE_DIFF,
    detail: `largest share difference ${pct(worstSilence)} (allowed ${pct(t.COMPARE_MAX_SILENCE_SHARE_DIFF)})`,
  });
  checks.push(
    words === null
      ? { name: "words", ok: true, detail: "no word boundaries stored (project without them)" }
      : {
          name: "words",
          ok: words.coverage >= t.COMPARE_MIN_WORD_COVERAGE && words.monotonic,
          detail: `${words.wordsTimed}/${words.wordsInText} words timed (${pct(words.coverage)}, at least ${pct(t.COMPARE_MIN_WORD_COVERAGE)}), offsets ${words.monotonic ? "monotonic" : "NOT monotonic"}`,
        },
  );
  return { metrics, checks, pass: checks.every((c) => c.ok) };
}
