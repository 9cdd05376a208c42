import * as df from "durable-functions";
import { describe, expect, it } from "vitest";
import { actionShape, GoldenRun, type OrchestratorFunction, startTime, summary } from "./golden/harness.js";

// Golden histories: the real durable-functions 3.5.0 replay answers, the host's episode fold schedules what the
// Durable extension's OutOfProcOrchestrationShim (ProcessAsyncActionsV2) and DTFx would. Each completion below is
// a history event the test chose, carrying the id the extension gave the work.

const hour = 3600_000;
const at = (ms: number) => new Date(startTime.getTime() + ms).toISOString();

/** A Task.any window of `width` over `count` calls, refilled as each finishes (the pattern to avoid). */
function slidingWindow(call: (ctx: Parameters<OrchestratorFunction>[0], i: number) => unknown) {
  return function* (ctx: Parameters<OrchestratorFunction>[0]) {
    const pending = [call(ctx, 0), call(ctx, 1)];
    let next = 2;
    const results: unknown[] = [];
    while (pending.length > 0) {
      const winner = yield ctx.df.Task.any(pending);
      results.push(winner.result);
      pending.splice(pending.indexOf(winner), 1);
      if (next < 4) pending.push(call(ctx, next++));
    }
    return results;
  } as OrchestratorFunction;
}

describe("golden histories: the host schedules from the action list as the extension does", () => {
  it("sliding Task.any window over activities: running ones are scheduled again, completions land on the wrong tasks, the instance hangs", async () => {
    const run = new GoldenRun(slidingWindow((ctx, i) => ctx.df.callActivity("Work", i)));

    const first = await run.start();
    expect(actionShape(first.actions)).toEqual(["WhenAny(Activity:0,Activity:1)"]);
    expect(summary(first.scheduled)).toEqual([
      [0, "Work(0)"],
      [1, "Work(1)"],
    ]);

    // Work(0) finishes: the SDK yields a NEW Task.any holding Work(1), already running, and Work(2).
    const second = await run.episode([run.completed(0, "r0")]);
    expect(actionShape(second.actions)).toEqual([
      "WhenAny(Activity:0,Activity:1)",
      "WhenAny(Activity:1,Activity:2)",
    ]);
    // The extension calls every child of the new WhenAny again: Work(1) is scheduled a second time (id 2),
    // and Work(2) gets id 3 (the SDK numbers it 2).
    expect(summary(second.scheduled)).toEqual([
      [2, "Work(1)"],
      [3, "Work(2)"],
    ]);

    // Work(1)'s first run (id 1) finishes: the SDK refills with Work(3), the extension still waits on ids 2/3.
    const third = await run.episode([run.completed(1, "r1")]);
    expect(actionShape(third.actions).at(-1)).toBe("WhenAny(Activity:2,Activity:3)");
    expect(third.scheduled).toEqual([]);

    // The duplicate Work(1) (id 2) finishes: the SDK takes id 2 for Work(2) and records Work(1)'s result for it.
    const fourth = await run.episode([run.completed(2, "r1-again")]);
    expect(summary(fourth.scheduled)).toEqual([
      [4, "Work(2)"],
      [5, "Work(3)"],
    ]);

    // Work(2)'s run (id 3) finishes: the SDK believes Work(3) is done and returns; the extension's replay is
    // still waiting on the third WhenAny (ids 4 and 5), so the instance does not complete.
    const fifth = await run.episode([run.completed(3, "r2")]);
    expect(fifth.state.isDone).toBe(true);
    expect(fifth.state.output).toEqual(["r0", "r1", "r1-again", "r2"]);
    expect(fifth.outcome).toEqual({ kind: "running" });
    expect(fifth.scheduled).toEqual([]);
  });

  it("sliding Task.any window over sub-orchestrations: a running child is started again under its id", async () => {
    const run = new GoldenRun(
      slidingWindow((ctx, i) => ctx.df.callSubOrchestrator("Child", i, `child-${i}`)),
    );
    expect(summary((await run.start()).scheduled)).toEqual([
      [0, "Child[child-0](0)"],
      [1, "Child[child-1](1)"],
    ]);
    const second = await run.episode([run.subCompleted(0, "c0")]);
    // child-1 is running: on Azure Storage this second start replaces it with a new execution (reporting to
    // task 2), so task 1 never completes and the parent cannot finish (an open task).
    expect(summary(second.scheduled)).toEqual([
      [2, "Child[child-1](1)"],
      [3, "Child[child-2](2)"],
    ]);
  });

  it("a sub-orchestration without an instance id is <executionId>:<sequence id>", async () => {
    const run = new GoldenRun(function* (ctx) {
      yield ctx.df.callActivity("Work", "first");
      return yield ctx.df.callSubOrchestrator("Child", "in");
    });
    await run.start();
    const second = await run.episode([run.completed(0, "ok")]);
    expect(summary(second.scheduled)).toEqual([[1, `Child[${run.executionId}:1]("in")`]]);
  });

  describe("Task.any of an activity and a timer", () => {
    const race = (cancel: boolean) =>
      function* (ctx: Parameters<OrchestratorFunction>[0]) {
        const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + hour));
        const work = ctx.df.callActivity("Work", "x");
        const winner = yield ctx.df.Task.any([work, timer]);
        if (winner !== work) return "timeout";
        if (cancel) timer.cancel();
        return work.result;
      } as OrchestratorFunction;

    it("the activity wins and the timer is cancelled: completes at once", async () => {
      const run = new GoldenRun(race(true));
      const first = await run.start();
      expect(actionShape(first.actions)).toEqual(['WhenAny(Activity:"x",Timer)']);
      expect(summary(first.scheduled)).toEqual([
        [0, 'Work("x")'],
        [1, `Timer(${at(hour)})`],
      ]);
      const second = await run.episode([run.completed(0, "done")]);
      expect(second.actions[0]?.compoundActions).toMatchObject([{}, { isCanceled: true }]);
      expect(second.outcome).toEqual({ kind: "completed", outputJson: '"done"' });
    });

    it("the activity wins and the timer is left running: DTFx completes only when the timer fires", async () => {
      const run = new GoldenRun(race(false));
      await run.start();
      const second = await run.episode([run.completed(0, "done")]);
      expect(second.state.isDone).toBe(true);
      expect(second.outcome).toEqual({ kind: "running" });
      const third = await run.episode([run.timerFired(1)], hour);
      expect(third.outcome).toEqual({ kind: "completed", outputJson: '"done"' });
    });

    it("the timer wins: the instance completes only when the activity it abandoned finishes", async () => {
      const run = new GoldenRun(race(false));
      await run.start();
      const second = await run.episode([run.timerFired(1)], hour);
      expect(second.state.output).toBe("timeout");
      expect(second.outcome).toEqual({ kind: "running" });
      const third = await run.episode([run.completed(0, "late")]);
      expect(third.outcome).toEqual({ kind: "completed", outputJson: '"timeout"' });
    });
  });

  it("Task.all inside Task.any: children take ids in order, the next call follows", async () => {
    const run = new GoldenRun(function* (ctx) {
      const both = ctx.df.Task.all([ctx.df.callActivity("Work", "a"), ctx.df.callActivity("Work", "b")]);
      const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + hour));
      const winner = yield ctx.df.Task.any([both, timer]);
      if (winner === both) timer.cancel();
      const after = yield ctx.df.callActivity("Work", "c");
      return [both.result, after];
    });
    const first = await run.start();
    expect(actionShape(first.actions)).toEqual(['WhenAny(WhenAll(Activity:"a",Activity:"b"),Timer)']);
    expect(summary(first.scheduled)).toEqual([
      [0, 'Work("a")'],
      [1, 'Work("b")'],
      [2, `Timer(${at(hour)})`],
    ]);
    expect((await run.episode([run.completed(1, "B")])).scheduled).toEqual([]);
    const third = await run.episode([run.completed(0, "A")]);
    expect(summary(third.scheduled)).toEqual([[3, 'Work("c")']]);
    const fourth = await run.episode([run.completed(3, "C")]);
    expect(fourth.outcome).toEqual({ kind: "completed", outputJson: JSON.stringify([["A", "B"], "C"]) });
  });

  describe("callActivityWithRetry (DTFx RetryInterceptor)", () => {
    const retrying = function* (ctx: Parameters<OrchestratorFunction>[0]) {
      const result = yield ctx.df.callActivityWithRetry("Flaky", new df.RetryOptions(60_000, 2), "in");
      const after = yield ctx.df.callActivity("Work", "after");
      return [result, after];
    } as OrchestratorFunction;

    it("attempt, retry timer, attempt: ids agree with the SDK and the next call follows", async () => {
      const run = new GoldenRun(retrying);
      const first = await run.start();
      expect(actionShape(first.actions)).toEqual(['ActivityWithRetry:"in"']);
      expect(summary(first.scheduled)).toEqual([[0, 'Flaky("in")']]);
      const second = await run.episode([run.failed(0, "boom")]);
      expect(summary(second.scheduled)).toEqual([[1, `Timer(${at(1_000 + 60_000)})`]]);
      const third = await run.episode([run.timerFired(1)], 60_000);
      expect(summary(third.scheduled)).toEqual([[2, 'Flaky("in")']]);
      const fourth = await run.episode([run.completed(2, "ok")]);
      expect(summary(fourth.scheduled)).toEqual([[3, 'Work("after")']]);
      const fifth = await run.episode([run.completed(3, "done")]);
      expect(fifth.outcome).toEqual({ kind: "completed", outputJson: '["ok","done"]' });
    });

    it("after the last failure a timer that fires at once, then the orchestrator fails", async () => {
      const run = new GoldenRun(retrying);
      await run.start();
      await run.episode([run.failed(0, "boom")]);
      await run.episode([run.timerFired(1)], 60_000);
      const last = await run.episode([run.failed(2, "boom again")]);
      expect(summary(last.scheduled)).toEqual([[3, `Timer(${run.now.toISOString()})`]]);
      expect(last.outcome).toEqual({ kind: "running" });
      const end = await run.episode([run.timerFired(3)]);
      expect(end.outcome).toMatchObject({ kind: "failed", message: expect.stringContaining("boom again") });
    });
  });

  it("continueAsNew: an event raised before it is dropped, one replayed after it is carried over", async () => {
    const run = new GoldenRun(function* (ctx) {
      const n = ctx.df.getInput() as number;
      yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + hour));
      ctx.df.continueAsNew(n + 1);
    }, 1);
    await run.start();
    const second = await run.episode(
      [run.raised("early", 1), run.timerFired(0), run.raised("late", 2)],
      hour,
    );
    expect(actionShape(second.actions)).toEqual(["Timer", "ContinueAsNew:2"]);
    expect(second.outcome).toMatchObject({ kind: "continuedAsNew", inputJson: "2" });
    const carried = second.outcome.kind === "continuedAsNew" ? second.outcome.carryOverEvents : [];
    expect(carried.map((e) => e.Name)).toEqual(["late"]);
  });

  it("an unknown activity takes no id and is never scheduled; the next call gets the id (the SDK waits)", async () => {
    const run = new GoldenRun(
      function* (ctx) {
        const results = yield ctx.df.Task.all([
          ctx.df.callActivity("Missing", 1),
          ctx.df.callActivity("Work", 2),
        ]);
        return results;
      },
      null,
      "golden",
      { activities: new Set(["work"]), orchestrators: new Set() },
    );
    const first = await run.start();
    expect(summary(first.scheduled)).toEqual([[0, "Work(2)"]]);
    expect(first.warnings.join()).toContain("The function 'Missing' doesn't exist");
    // The SDK numbered Work 1: the completion for id 0 lands on Missing, and Work is never completed.
    const second = await run.episode([run.completed(0, "two")]);
    expect(second.state.isDone).toBe(false);
    expect(second.outcome).toEqual({ kind: "running" });
  });

  it("replaying a different activity at a scheduled id is non-determinism, as DTFx reports it", async () => {
    let name = "Work";
    const run = new GoldenRun(function* (ctx) {
      return yield ctx.df.callActivity(name, "x");
    });
    await run.start();
    name = "Other";
    const second = await run.episode([]);
    expect(second.outcome).toMatchObject({
      kind: "failed",
      errorType: "NonDeterministicOrchestrationException",
      message: expect.stringContaining(
        "scheduled an activity task with sequence number 0 named 'Work', but the current orchestration replay instead scheduled an activity task named 'Other'",
      ),
    });
  });
});
