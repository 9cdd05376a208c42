import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { activityEvents } from "../src/observability/activityEvents.js";
import { emitEvent } from "../src/observability/events.js";
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
  REPORT_JOB_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  SYNTHESIZE_REALTIME_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
} from "../src/pipeline/names.js";
import { planProject } from "../src/pipeline/planning/planRun.js";
import { synthesizeChapterRealtime } from "../src/pipeline/realtime.js";
import { reportJobFinished } from "../src/pipeline/report.js";
import { planRetries } from "../src/pipeline/retries.js";
import { getPipelineDeps } from "../src/pipeline/runtime.js";

/** Activities: each parses its input and runs one idempotent use case from src/pipeline. */
export {
  CHECK_JOB_ACTIVITY,
  COLLECT_JOB_ACTIVITY,
  DELETE_JOB_ACTIVITY,
  PLAN_PROJECT_ACTIVITY,
  PLAN_RETRIES_ACTIVITY,
  REPORT_JOB_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  SYNTHESIZE_REALTIME_ACTIVITY,
  WRITE_MANIFEST_ACTIVITY,
};

// Each activity also logs its job state change through the invocation's logger (src/observability):
// Application Insights traces in Azure, one readable line per change in `npm start`.
df.app.activity(PLAN_PROJECT_ACTIVITY, {
  handler: async (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.plan.parse(input);
    const result = await planProject(getPipelineDeps(), parsed);
    emitEvent(context, activityEvents.plan(parsed, result));
    return result;
  },
});
df.app.activity(SUBMIT_JOB_ACTIVITY, {
  handler: async (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.submit.parse(input);
    const result = await submitJob(getPipelineDeps(), parsed);
    emitEvent(context, activityEvents.submit(parsed, result));
    return result;
  },
});
df.app.activity(CHECK_JOB_ACTIVITY, {
  handler: async (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.check.parse(input);
    const result = await checkJob(getPipelineDeps(), parsed);
    emitEvent(context, activityEvents.check(parsed, result));
    return result;
  },
});
df.app.activity(COLLECT_JOB_ACTIVITY, {
  handler: async (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.collect.parse(input);
    const tally = await collectJob(getPipelineDeps(), parsed);
    emitEvent(context, activityEvents.collect(parsed, tally));
    return tally;
  },
});
df.app.activity(DELETE_JOB_ACTIVITY, {
  handler: async (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.delete.parse(input);
    await deleteJob(getPipelineDeps(), parsed);
    emitEvent(context, activityEvents.delete(parsed));
  },
});
df.app.activity(PLAN_RETRIES_ACTIVITY, {
  handler: async (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.planRetries.parse(input);
    const jobs = await planRetries(getPipelineDeps(), parsed);
    emitEvent(context, activityEvents.planRetries(parsed, jobs));
    return jobs;
  },
});
df.app.activity(SYNTHESIZE_REALTIME_ACTIVITY, {
  handler: (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.realtime.parse(input);
    return synthesizeChapterRealtime(getPipelineDeps(), parsed, {
      onOutcome: (outcome) => {
        for (const event of activityEvents.realtime(parsed, outcome)) emitEvent(context, event);
      },
    });
  },
});
df.app.activity(WRITE_MANIFEST_ACTIVITY, {
  handler: async (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.manifest.parse(input);
    const totals = await writeManifest(getPipelineDeps(), parsed);
    emitEvent(context, activityEvents.manifest(parsed, totals));
    return totals;
  },
});
// Raises `job-finished` to the project run. A durable client input is an ordinary binding on any function,
// activities included (azure-functions-durable-extension `DurableTaskExtension.Initialize`:
// `AddBindingRule<DurableClientAttribute>()` names no trigger).
df.app.activity(REPORT_JOB_ACTIVITY, {
  extraInputs: [df.input.durableClient()],
  handler: async (input: unknown, context: InvocationContext) => {
    const parsed = activityInputs.reportJob.parse(input);
    await reportJobFinished(df.getClient(context), parsed);
  },
});
