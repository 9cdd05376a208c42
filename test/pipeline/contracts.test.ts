import type { OrchestrationContext } from "durable-functions";
import { describe, expect, expectTypeOf, it } from "vitest";
import { collectJob } from "../../src/pipeline/collect.js";
import {
  type ActivityInput,
  type ActivityOutput,
  activityInputs,
  orchestratorInputs,
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
  REALTIME_LANE_ORCHESTRATOR,
  type REPORT_JOB_ACTIVITY,
  SUBMIT_JOB_ACTIVITY,
  type SYNTHESIZE_REALTIME_ACTIVITY,
  type WRITE_MANIFEST_ACTIVITY,
} from "../../src/pipeline/names.js";
import {
  realtimeLaneOrchestrator,
  scheduleActivity,
  startOrchestrator,
} from "../../src/pipeline/orchestrators.js";
import type { PlanInput as PlanProjectInput, planProject } from "../../src/pipeline/planning/planRun.js";
import { synthesizeChapterRealtime } from "../../src/pipeline/realtime.js";
import { reportJobFinished } from "../../src/pipeline/report.js";
import { planRetries } from "../../src/pipeline/retries.js";
import { expectActivityContract, expectOrchestratorContract } from "./activityContract.js";

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

/** Orchestrator-to-orchestrator inputs are contracts too: typed at the start, parsed where they arrive. */
describe("orchestration input contracts", () => {
  const lane = {
    projectId: "book",
    runId: "r1",
    instanceId: "tts-book",
    jobNumber: 2,
    options: { voice: "v", outputFormat: "riff-24khz-16bit-mono-pcm", wordBoundaries: true },
    positions: [0, 2],
  };

  it("an orchestrator cannot start another with a field too many or too few", () => {
    // Compile-time only: never called.
    const wouldNotCompile = (context: OrchestrationContext) => {
      startOrchestrator(context, REALTIME_LANE_ORCHESTRATOR, lane, "id");
      // @ts-expect-error a field the schema lacks (zod would strip it)
      startOrchestrator(context, REALTIME_LANE_ORCHESTRATOR, { ...lane, extra: 1 }, "id");
      const { positions: _, ...withoutPositions } = lane;
      // @ts-expect-error a field the schema requires
      startOrchestrator(context, REALTIME_LANE_ORCHESTRATOR, withoutPositions, "id");
    };
    expect(typeof wouldNotCompile).toBe("function");
  });

  it("every orchestrator name has a schema, and the run-time check catches a field the schema drops", () => {
    const orchestratorNames = Object.entries(names)
      .filter(([constant]) => constant.endsWith("_ORCHESTRATOR"))
      .map(([, name]) => name);
    expect(Object.keys(orchestratorInputs).sort()).toEqual(orchestratorNames.sort());
    expect(() => expectOrchestratorContract(REALTIME_LANE_ORCHESTRATOR, lane)).not.toThrow();
    expect(() => expectOrchestratorContract(REALTIME_LANE_ORCHESTRATOR, { ...lane, extra: 1 })).toThrow(
      /drops/,
    );
    expect(() => expectOrchestratorContract("NoSuchOrchestrator", {})).toThrow(/No orchestrator contract/);
  });

  it("a sub-orchestrator refuses a malformed input from history, naming the field, before doing anything", () => {
    const scheduled: string[] = [];
    const context = {
      df: {
        getInput: () => ({ ...lane, positions: "0,2" }),
        callActivity: (name: string) => scheduled.push(name),
      },
    } as unknown as OrchestrationContext;
    expect(() => realtimeLaneOrchestrator(context).next()).toThrow(/positions/);
    expect(scheduled).toEqual([]);
  });
});
