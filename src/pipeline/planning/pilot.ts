import type { JobSpec } from "./schema.js";

/**
 * The pilot job, pure. A batch job's chapters come back together when the whole job is done, so the first
 * video of a book waits for a whole first job (minutes: a hundred chapters); and how soon the pipeline sees a
 * job done depends on how well its end is predicted, an error that grows with the job. A run of more than
 * one wave (more batch jobs than `maxConcurrentJobs`) therefore sends its first `pilotChapters` chapters
 * alone first: a job of a few chapters is done within about a minute, is polled every `pollMinMs` or so, and
 * its videos go out while the first full jobs are still at the service. It holds one of the concurrency
 * slots meanwhile (that slot's first full job is submitted when the pilot is done). A single-wave run gets
 * none: it would cost two more requests and a run that short has little to wait for.
 *
 * The pilot's throughput (characters per second) is kept apart from the full jobs' (`_throughput.pilot.json`):
 * a few chapters use little of the service's parallel synthesis and wait its start latency like any job.
 */
export function withPilot(jobs: JobSpec[], pilotChapters: number, maxConcurrentJobs: number): JobSpec[] {
  const batchJobs = jobs.filter((job) => job.mode === "batch").length;
  const [first, ...rest] = jobs;
  if (
    first?.mode !== "batch" ||
    pilotChapters <= 0 ||
    batchJobs <= maxConcurrentJobs ||
    first.chapters.length <= pilotChapters
  ) {
    return jobs;
  }
  const pilot: JobSpec = { ...first, pilot: true, chapters: first.chapters.slice(0, pilotChapters) };
  const remainder: JobSpec = { ...first, chapters: first.chapters.slice(pilotChapters) };
  return [pilot, remainder, ...rest].map((job, k) => ({ ...job, jobNumber: first.jobNumber + k }));
}
