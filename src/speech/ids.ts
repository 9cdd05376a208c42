import { createHash } from "node:crypto";

/** Synthesis id rule of the API (spec `PathId`): 3–64 chars, letters/digits/`.`/`_`/`-`, alphanumeric at both ends. */
export const SYNTHESIS_ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,62}[a-zA-Z0-9]$/;

export function isValidSynthesisId(id: string): boolean {
  return SYNTHESIS_ID_PATTERN.test(id);
}

/** Throws a TypeError naming the rule when `id` is not a valid synthesis id. */
export function assertValidSynthesisId(id: string): void {
  if (!isValidSynthesisId(id)) {
    throw new TypeError(
      `Invalid synthesis id "${id.slice(0, 80)}": 3-64 letters, digits, ".", "_" or "-", starting and ending with a letter or digit.`,
    );
  }
}

const MAX_ID_LENGTH = 64;

function slug(part: string): string {
  return part
    .normalize("NFKD")
    .replace(/[^a-zA-Z0-9._-]+/g, "-")
    .replace(/^[._-]+|[._-]+$/g, "")
    .replace(/-{2,}/g, "-");
}

function hash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * A deterministic, valid synthesis id for one submit of one job.
 * The same parts always give the same id (so a retried submit re-attaches); a hash of the exact parts
 * keeps distinct inputs distinct when the readable parts are shortened or cleaned of other characters:
 * `{project}-{run}-{hash10}-j{job}-a{attempt}`.
 */
export function makeSynthesisId(parts: {
  projectId: string;
  runId: string;
  jobNumber: number;
  attempt: number;
}): string {
  const { projectId, runId, jobNumber, attempt } = parts;
  if (!Number.isInteger(jobNumber) || jobNumber < 0)
    throw new RangeError("jobNumber must be a non-negative integer.");
  if (!Number.isInteger(attempt) || attempt < 0)
    throw new RangeError("attempt must be a non-negative integer.");
  const tail = `j${jobNumber}-a${attempt}`;
  const project = slug(projectId) || "p";
  const run = slug(runId) || "r";
  // Hyphens inside parts make "a-b"+"c" and "a"+"b-c" read alike, so a hash of the exact parts is always
  // included; the readable parts are there for people and are cut to fit.
  const digest = hash(JSON.stringify([projectId, runId]), 10);
  const room = MAX_ID_LENGTH - tail.length - digest.length - 3;
  const projectRoom = Math.max(1, Math.min(project.length, Math.ceil(room / 2)));
  const runRoom = Math.max(0, room - projectRoom);
  const head = slug(project.slice(0, projectRoom)) || "p";
  const runPart = slug(run.slice(0, runRoom));
  const id = runPart ? `${head}-${runPart}-${digest}-${tail}` : `${head}-${digest}-${tail}`;
  assertValidSynthesisId(id);
  return id;
}

/** The job number a {@link makeSynthesisId} id ends with (`…-j{jobNumber}-a{attempt}`); undefined for another id. */
export function jobNumberOfSynthesisId(id: string): number | undefined {
  const match = /-j(\d+)-a\d+$/.exec(id);
  return match ? Number(match[1]) : undefined;
}
