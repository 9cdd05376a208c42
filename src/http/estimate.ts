import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { z } from "zod";
import type { PipelineDeps } from "../pipeline/deps.js";
import { startRequestSchema } from "../pipeline/options.js";
import { estimateAudioMsFromWords } from "../pipeline/planning/chapters.js";
import { assessProject } from "../pipeline/planning/planRun.js";
import { errorResponse, issueDetails, projectIdOf } from "./errors.js";

/** Query options of an estimate: the start body's fields, as strings (`chapters` comma-separated). */
const estimateQuerySchema = z
  .object({
    voice: z.string(),
    outputFormat: z.string(),
    mode: z.string(),
    maxChaptersPerJob: z.coerce.number(),
    wordBoundaries: z.enum(["true", "false"]).transform((v) => v === "true"),
    force: z.enum(["true", "false"]).transform((v) => v === "true"),
    chapters: z.string().transform((v) =>
      v
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean),
    ),
    code: z.string(),
  })
  .partial()
  .strict();

/** `GET /api/projects/{projectId}/estimate`: a dry run of planning; nothing is sent to Speech or written. */
export async function estimateProject(deps: PipelineDeps, request: HttpRequest): Promise<HttpResponseInit> {
  const projectId = projectIdOf(request);
  const query = estimateQuerySchema.safeParse(Object.fromEntries(request.query.entries()));
  if (!query.success)
    return errorResponse(400, "invalid-request", "Invalid query parameters.", issueDetails(query.error));
  const { code: _key, ...options } = query.data;
  const body = startRequestSchema.safeParse(options);
  if (!body.success)
    return errorResponse(400, "invalid-request", "Invalid query parameters.", issueDetails(body.error));
  // An invalid project.json or pronunciation list (PlanError) is answered 400 by `guarded`.
  const run = await assessProject(deps, { projectId, request: body.data });
  if (run.chapters.length === 0 && !body.data.chapters) {
    return errorResponse(
      404,
      "no-chapters",
      `No chapters (.txt or .ssml) under ${deps.settings.CHAPTERS_CONTAINER}/${projectId}/.`,
    );
  }
  const price = deps.settings.PRICE_PER_MILLION_CHARACTERS;
  const billable = run.counts.billableCharacters;
  // The estimate is of what this run would do: chapters outside a `chapters` subset are left out.
  const inRun = run.chapters.filter((c) => !c.carried);
  return {
    status: 200,
    jsonBody: {
      projectId,
      chapters: inRun.length,
      characters: run.counts.characters,
      billableCharacters: billable,
      rejected: inRun
        .filter((c) => c.status === "rejected")
        .map((c) => ({ chapterId: c.chapterId, reason: c.reason ?? "rejected" })),
      unchanged: inRun.filter((c) => c.status === "unchanged").length,
      pending: run.counts.pending,
      plannedJobs: run.jobs.length,
      mode: run.options.mode,
      voice: run.options.voice,
      outputFormat: run.options.outputFormat,
      estimatedCost: {
        amount: Math.round((billable / 1_000_000) * price * 10_000) / 10_000,
        currency: "USD",
        pricePerMillionCharacters: price,
      },
      // ~150 spoken words a minute (CONTRACT §6), counted in words: characters overrate long words.
      estimatedAudioMinutes: Math.round((estimateAudioMsFromWords(run.counts.words) / 60_000) * 10) / 10,
      ignored: run.ignored,
    },
  };
}
