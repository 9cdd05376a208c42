import type { OrchestrationContext } from "durable-functions";
import { describe, expect, expectTypeOf, it } from "vitest";
import { collectJob } from "../../src/pipeline/collect.js";
import {
  type ActivityInput,
  type ActivityOutput,
  activityInputs,
  type PlanInput,
} from "../../src/pipeline/contracts.js";
import { checkJob, deleteJob, submitJob } from "../../src/pipeline/jobs.js";
import { writeManifest } from "../../src/pipeline/manifest.js";
import * as names from "../../src/pipeline/names.js";
import {
  CHECK_JOB_ACTIVITY,
  type COLLECT_JOB_ACTIVITY,
  DELETE_JOB_ACTIVITY,
  type PLAN_PROJECT_ACTIVITY,
  type PLAN_RETRIES_ACTIVITY,
  type REPORT_JOB_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  type SYNTHESIZE_REALTIME_ACTIVITY,
  type WRITE_MANIFEST_ACTIVITY,
} from "../../src/pipeline/names.js";
import { scheduleActivity } from "../../src/pipeline/orchestrators.js";
import type { PlanInput as PlanProjectInput, planProject } from "../../src/pipeline/planning/planRun.js";
import { synthesizeChapterRealtime } from "../../src/pipeline/realtime.js";
import { reportJobFinished } from "../../src/pipeline/report.js";
import { planRetries } from "../../src/pipeline/retries.js";
import { expectActivityContract } from "./activityContract.js";

/**
 * Activity contracts have one definition (src/pipeline/contracts.ts): each use case takes exactly its
 * contract's input type and returns its output type, and an orchestrator cannot schedule an activity with
 * anything else. The type checks here are compile-time (`npm run typecheck` includes test/); the orchestrator
 * tests check at run time what each scheduled input looks like after the activity's parse (activityContract.ts).
 */
describe("activity contracts", () => {
  it("each use case takes its contract's input and returns its contract's output", () => {
    expectTypeOf(submitJob).parameter(1).toEqualTypeOf<ActivityInput<typeof SUBMIT_JOB_ACTIVITY>>();
    expectTypeOf(submitJob).returns.resolves.toEqualTypeOf<ActivityOutput<typeof SUBMIT_JOB_ACTIVITY>>();
    expectTypeOf(checkJob).parameter(1).toEqualTypeOf<ActivityInput<typeof CHECK_JOB_ACTIVITY>>();
    expectTypeOf(checkJob).returns.resolves.toEqualTypeOf<ActivityOutput<typeof CHECK_JOB_ACTIVITY>>();
    expectTypeOf(collectJob).parameter(1).toEqualTypeOf<ActivityInput<typeof COLLECT_JOB_ACTIVITY>>();
    expectTypeOf(collectJob).returns.resolves.toEqualTypeOf<ActivityOutput<typeof COLLECT_JOB_ACTIVITY>>();
    expectTypeOf(deleteJob).parameter(1).toEqualTypeOf<ActivityInput<typeof DELETE_JOB_ACTIVITY>>();
    expectTypeOf(planRetries).parameter(1).toEqualTypeOf<ActivityInput<typeof PLAN_RETRIES_ACTIVITY>>();
    expectTypeOf(planRetries).returns.resolves.toEqualTypeOf<ActivityOutput<typeof PLAN_RETRIES_ACTIVITY>>();
    expectTypeOf(synthesizeChapterRealtime)
      .parameter(1)
      .toEqualTypeOf<ActivityInput<typeof SYNTHESIZE_REALTIME_ACTIVITY>>();
    expectTypeOf(synthesizeChapterRealtime).returns.resolves.toEqualTypeOf<
      ActivityOutput<typeof SYNTHESIZE_REALTIME_ACTIVITY>
    >();
    expectTypeOf(writeManifest).parameter(1).toEqualTypeOf<ActivityInput<typeof WRITE_MANIFEST_ACTIVITY>>();
    expectTypeOf(writeManifest).returns.resolves.toEqualTypeOf<
      ActivityOutput<typeof WRITE_MANIFEST_ACTIVITY>
    >();
    expectTypeOf(reportJobFinished).parameter(1).toEqualTypeOf<ActivityInput<typeof REPORT_JOB_ACTIVITY>>();
    // plan.ts still declares its own input type (the planning folder moves it): it must not drift.
    expectTypeOf<Parameters<typeof planProject>[1]>().toEqualTypeOf<
      ActivityInput<typeof PLAN_PROJECT_ACTIVITY>
    >();
    expectTypeOf<PlanProjectInput>().toEqualTypeOf<PlanInput>();
  });

  it("an orchestrator cannot schedule an activity with a field too many or too few", () => {
    // Compile-time only: never called. Each @ts-expect-error fails `npm run typecheck` once the call compiles.
    const wouldNotCompile = (context: OrchestrationContext) => {
      scheduleActivity(context, CHECK_JOB_ACTIVITY, { synthesisId: "s1" });
      // @ts-expect-error a field the schema lacks (zod would strip it)
      scheduleActivity(context, CHECK_JOB_ACTIVITY, { synthesisId: "s1", jobNumber: 1 });
      // @ts-expect-error a field the schema requires
      scheduleActivity(context, DELETE_JOB_ACTIVITY, { projectId: "book", runId: "r1" });
      // @ts-expect-error another activity's input
      scheduleActivity(context, SUBMIT_JOB_ACTIVITY, { synthesisId: "s1" });
    };
    expect(typeof wouldNotCompile).toBe("function");
  });

  it("every activity name has a schema, and the run-time check catches a field the schema drops", () => {
    const activityNames = Object.entries(names)
      .filter(([constant]) => constant.endsWith("_ACTIVITY"))
      .map(([, name]) => name);
    expect(Object.keys(activityInputs).sort()).toEqual(activityNames.sort());
    const input = { projectId: "book", runId: "r1", synthesisId: "s1" };
    expect(() => expectActivityContract(DELETE_JOB_ACTIVITY, input)).not.toThrow();
    expect(() => expectActivityContract(DELETE_JOB_ACTIVITY, { ...input, jobNumber: 2 })).toThrow(/drops/);
    expect(() => expectActivityContract(DELETE_JOB_ACTIVITY, { projectId: "book" })).toThrow(/invalid/);
    expect(() => expectActivityContract("NoSuchActivity", {})).toThrow(/No activity contract/);
  });
});
