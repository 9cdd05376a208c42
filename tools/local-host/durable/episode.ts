import type { OrchestratorState } from "./actions.js";
import { EventType, type HistoryEvent, historyEvent } from "./history.js";
import {
  activityInput,
  type ScheduledAction,
  type SchedulerOptions,
  scheduleFromActions,
} from "./scheduler.js";

/**
 * One orchestrator episode as a pure fold: the history (with this episode's `OrchestratorStarted` and new
 * messages already appended) and what the SDK answered → the scheduling events to append, the work to dispatch
 * and how the execution stands. No I/O: the engine persists and dispatches, golden tests assert on it directly.
 */
export interface EpisodeInput {
  orchestratorName: string;
  executionId: string;
  history: readonly HistoryEvent[];
  /** This episode's `OrchestratorStarted` time: scheduling events carry it. */
  startedAt: Date;
  /** The SDK's `OrchestratorState`, or the message of an error thrown without one. */
  answer: { state: OrchestratorState } | { thrown: string };
  maximumShortTimerMs: number;
  longTimerIntervalMs: number;
  /** The app's function names (lower case), for the extension's check of unknown ones; omitted: all known. */
  knownFunctions?: SchedulerOptions["knownFunctions"];
}

export type EpisodeOutcome =
  | { kind: "running" }
  | { kind: "completed"; outputJson: string }
  | { kind: "failed"; message: string; errorType: string }
  | { kind: "continuedAsNew"; inputJson: string; carryOverEvents: HistoryEvent[] };

export interface EpisodeResult {
  /** TaskScheduled / TimerCreated / SubOrchestrationInstanceCreated for ids new to the history, in id order. */
  scheduled: HistoryEvent[];
  /** The scheduled events to act on (cancelled timers are recorded, never armed). */
  work: HistoryEvent[];
  outcome: EpisodeOutcome;
  /** JSON text, when the SDK set one. */
  customStatus?: string;
  warnings: string[];
}

export function foldEpisode(input: EpisodeInput): EpisodeResult {
  if ("thrown" in input.answer) {
    return {
      scheduled: [],
      work: [],
      outcome: { kind: "failed", message: input.answer.thrown, errorType: "OrchestrationFailureException" },
      warnings: [],
    };
  }
  const state = input.answer.state;
  const customStatus = state.customStatus === undefined ? undefined : JSON.stringify(state.customStatus);
  const schedule = scheduleFromActions(input.history, state.actions, {
    executionId: input.executionId,
    maximumShortTimerMs: input.maximumShortTimerMs,
    longTimerIntervalMs: input.longTimerIntervalMs,
    ...(input.knownFunctions ? { knownFunctions: input.knownFunctions } : {}),
  });
  const base = { ...(customStatus === undefined ? {} : { customStatus }), warnings: schedule.warnings };
  if (schedule.failure) {
    return {
      ...base,
      scheduled: [],
      work: [],
      outcome: { kind: "failed", ...schedule.failure },
    };
  }
  const scheduled = schedule.newActions.map((action) => schedulingEvent(action, input.startedAt));
  const work = scheduled.filter((e) => !(e.EventType === EventType.TimerCreated && e.Canceled === true));
  // DTFx completes an execution only when the function is done and no task is open (TaskOrchestrationExecutor).
  let outcome: EpisodeOutcome = { kind: "running" };
  if (schedule.walkComplete && schedule.openTasks === 0) {
    if (state.error !== undefined) {
      outcome = {
        kind: "failed",
        message: `Orchestrator function '${input.orchestratorName}' failed: ${state.error}`,
        errorType: "OrchestrationFailureException",
      };
    } else if (schedule.continueAsNew) {
      outcome = {
        kind: "continuedAsNew",
        inputJson: JSON.stringify(activityInput(schedule.continueAsNew.input) ?? null),
        carryOverEvents: schedule.carryOverEvents,
      };
    } else if (state.isDone) {
      outcome = { kind: "completed", outputJson: JSON.stringify(state.output ?? null) };
    }
  }
  return { ...base, scheduled, work, outcome };
}

export function schedulingEvent(action: ScheduledAction, at: Date): HistoryEvent {
  switch (action.kind) {
    case "activity":
      return historyEvent(
        EventType.TaskScheduled,
        at,
        { Name: action.name, Version: "", Input: action.input },
        action.id,
      );
    case "subOrchestration":
      return historyEvent(
        EventType.SubOrchestrationInstanceCreated,
        at,
        { Name: action.name, Version: "", InstanceId: action.instanceId, Input: action.input },
        action.id,
      );
    case "timer":
      return historyEvent(
        EventType.TimerCreated,
        at,
        { FireAt: action.fireAt, ...(action.canceled ? { Canceled: true } : {}) },
        action.id,
      );
  }
}
