import * as df from "durable-functions";
import { activityInputs } from "../src/pipeline/activityInputs.js";
import { collectJob } from "../src/pipeline/collect.js";
import { checkJob, deleteJob, submitJob } from "../src/pipeline/jobs.js";
import { writeManifest } from "../src/pipeline/manifest.js";
import {
  CHECK_JOB_ACTIVITY,
  COLLECT_JOB_ACTIVITY,
  DELETE_JOB_ACTIVITY,
  PLAN_PROJECT_ACTIVITY,
  PLAN_RETRIES_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  SYNTHESIZE_REALTIME_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
} from "../src/pipeline/names.js";
import { planProject } from "../src/pipeline/plan.js";
import { synthesizeChapterRealtime } from "../src/pipeline/realtime.js";
import { planRetries } from "../src/pipeline/retries.js";
import { getPipelineDeps } from "../src/pipeline/runtime.js";

/** Activities: each parses its input and runs one idempotent use case from src/pipeline. */
export {
  CHECK_JOB_ACTIVITY,
  COLLECT_JOB_ACTIVITY,
  DELETE_JOB_ACTIVITY,
  PLAN_PROJECT_ACTIVITY,
  PLAN_RETRIES_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  SYNTHESIZE_REALTIME_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
};

df.app.activity(PLAN_PROJECT_ACTIVITY, {
  handler: (input: unknown) => planProject(getPipelineDeps(), activityInputs.plan.parse(input)),
});
df.app.activity(SUBMIT_JOB_ACTIVITY, {
  handler: (input: unknown) => submitJob(getPipelineDeps(), activityInputs.submit.parse(input)),
});
df.app.activity(CHECK_JOB_ACTIVITY, {
  handler: (input: unknown) => checkJob(getPipelineDeps(), activityInputs.check.parse(input)),
});
df.app.activity(COLLECT_JOB_ACTIVITY, {
  handler: (input: unknown) => collectJob(getPipelineDeps(), activityInputs.collect.parse(input)),
});
df.app.activity(DELETE_JOB_ACTIVITY, {
  handler: (input: unknown) => deleteJob(getPipelineDeps(), activityInputs.delete.parse(input)),
});
df.app.activity(PLAN_RETRIES_ACTIVITY, {
  handler: (input: unknown) => planRetries(getPipelineDeps(), activityInputs.planRetries.parse(input)),
});
df.app.activity(SYNTHESIZE_REALTIME_ACTIVITY, {
  handler: (input: unknown) =>
    synthesizeChapterRealtime(getPipelineDeps(), activityInputs.realtime.parse(input)),
});
df.app.activity(WRITE_MANIFEST_ACTIVITY, {
  handler: (input: unknown) => writeManifest(getPipelineDeps(), activityInputs.manifest.parse(input)),
});
