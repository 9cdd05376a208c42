import type { FunctionInput, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { activityEvents } from "../src/observability/activityEvents.js";
import { emitEvent, type PipelineEvent } from "../src/observability/events.js";
import { collectJob } from "../src/pipeline/collect.js";
import {
  type ActivityInput,
  type ActivityName,
  type ActivityOutput,
  activityInputs,
} from "../src/pipeline/contracts.js";
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

/**
 * Registers activity `name` (a Durable name: it is in orchestration history, never rename one): parses the
 * input with its contract's schema (src/pipeline/contracts.ts), runs the use case, and logs the job state
 * change it says through the invocation's logger (src/observability): Application Insights traces in Azure,
 * one readable line per change in `npm start`.
 */
function activity<N extends ActivityName>(
  name: N,
  run: (input: ActivityInput<N>, context: InvocationContext) => Promise<ActivityOutput<N>>,
  event?: (input: ActivityInput<N>, output: ActivityOutput<N>) => PipelineEvent,
  extraInputs?: FunctionInput[],
): void {
  df.app.activity(name, {
    ...(extraInputs ? { extraInputs } : {}),
    handler: async (raw: unknown, context: InvocationContext) => {
      const input = activityInputs[name].parse(raw) as ActivityInput<N>;
      const output = await run(input, context);
      if (event) emitEvent(context, event(input, output));
      return output;
    },
  });
}

const deps = getPipelineDeps;
activity(PLAN_PROJECT_ACTIVITY, (input) => planProject(deps(), input), activityEvents.plan);
activity(SUBMIT_JOB_ACTIVITY, (input) => submitJob(deps(), input), activityEvents.submit);
activity(CHECK_JOB_ACTIVITY, (input) => checkJob(deps(), input), activityEvents.check);
activity(COLLECT_JOB_ACTIVITY, (input) => collectJob(deps(), input), activityEvents.collect);
activity(DELETE_JOB_ACTIVITY, (input) => deleteJob(deps(), input), activityEvents.delete);
activity(PLAN_RETRIES_ACTIVITY, (input) => planRetries(deps(), input), activityEvents.planRetries);
activity(WRITE_MANIFEST_ACTIVITY, (input) => writeManifest(deps(), input), activityEvents.manifest);
// A chapter's events are logged as its outcome is known (also when a re-run finds it saved).
activity(SYNTHESIZE_REALTIME_ACTIVITY, (input, context) =>
  synthesizeChapterRealtime(deps(), input, {
    onOutcome: (outcome) => {
      for (const event of activityEvents.realtime(input, outcome)) emitEvent(context, event);
    },
  }),
);
// Raises `job-finished` to the project run. A durable client input is an ordinary binding on any function,
// activities included (azure-functions-durable-extension `DurableTaskExtension.Initialize`:
// `AddBindingRule<DurableClientAttribute>()` names no trigger).
activity(
  REPORT_JOB_ACTIVITY,
  async (input, context) => {
    await reportJobFinished(df.getClient(context), input);
  },
  undefined,
  [df.input.durableClient()],
);
