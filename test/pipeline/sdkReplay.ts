import { createRequire } from "node:module";
import type { OrchestrationContext } from "durable-functions";
import { expectActivityContract, expectOrchestratorContract } from "./activityContract.js";

/**
 * Runs an orchestrator through the real durable-functions 3.5.0 executor, episode after episode, the way the
 * Durable extension feeds it: each episode replays the whole history and returns the SDK's cumulative action
 * list (replay schema V2+). A scenario decides which open task completes in each episode. Used to check what
 * the extension would be asked to schedule; the end-to-end tests run the same code on the local host.
 */
const require = createRequire(import.meta.url);
const { Orchestrator } = require("durable-functions/lib/src/orchestrations/Orchestrator.js") as {
  Orchestrator: new (
    fn: (context: OrchestrationContext) => Generator<unknown, unknown, unknown>,
  ) => {
    handle(trigger: unknown, context: unknown): Promise<SdkState>;
    taskOrchestrationExecutor: { openTasks: Record<string, SdkTask> };
  };
};

const EventType = {
  ExecutionStarted: 0,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCompleted: 8,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventRaised: 15,
} as const;

export const ActionType = {
  CallActivity: 0,
  CallSubOrchestrator: 2,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  WhenAny: 11,
  WhenAll: 12,
} as const;

export interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: Date;
  compoundActions?: SdkAction[];
}

interface SdkState {
  isDone: boolean;
  actions: SdkAction[][];
  output?: unknown;
  customStatus?: unknown;
}

interface SdkTask {
  id: number | string | false;
  actionObj?: SdkAction;
}

/** An open task of the last episode, as a scenario sees it. */
export interface OpenTask {
  id: number;
  action: SdkAction;
}

export type Outcome = { result: unknown } | { error: string };

export interface Scenario {
  input: unknown;
  instanceId?: string;
  start?: Date;
  /** Which open task completes next and how; undefined ends the run (nothing left to do). */
  next(
    open: OpenTask[],
    episode: number,
  ): { task: OpenTask; outcome: Outcome } | { event: string; data?: unknown } | undefined;
  maxEpisodes?: number;
}

export interface Episode {
  actions: SdkAction[];
  /** Atomic actions found more than once in the cumulative list (external-event waits excepted). */
  duplicates: SdkAction[];
  /** What the episode left as `customStatus`. */
  customStatus: unknown;
}

/** Atomic actions that occur in more than one place: a task put again into a new Task.any/Task.all. */
export function duplicatedActions(actions: SdkAction[]): SdkAction[] {
  const seen = new Set<SdkAction>();
  const duplicates: SdkAction[] = [];
  const visit = (action: SdkAction) => {
    if (action.compoundActions) {
      action.compoundActions.forEach(visit);
      return;
    }
    if (action.actionType === ActionType.WaitForExternalEvent) return;
    if (seen.has(action)) duplicates.push(action);
    seen.add(action);
  };
  actions.forEach(visit);
  return duplicates;
}

export async function replay(
  fn: (context: OrchestrationContext) => Generator<unknown, unknown, unknown>,
  scenario: Scenario,
): Promise<{ episodes: Episode[]; output: unknown; done: boolean }> {
  let now = scenario.start ?? new Date("2026-01-01T00:00:00Z");
  const history: Record<string, unknown>[] = [
    { EventType: EventType.OrchestratorStarted, Timestamp: now, IsPlayed: false },
    { EventType: EventType.ExecutionStarted, Timestamp: now, IsPlayed: false },
  ];
  const episodes: Episode[] = [];
  for (let episode = 0; episode < (scenario.maxEpisodes ?? 500); episode++) {
    const orchestrator = new Orchestrator(fn);
    const state = await orchestrator.handle(
      {
        history: history.map((e, i) => ({ ...e, IsPlayed: i < history.length - 1 })),
        input: scenario.input,
        instanceId: scenario.instanceId ?? "tts-book",
        isReplaying: episode > 0,
        upperSchemaVersion: 1,
      },
      {},
    );
    const actions = state.actions.flat();
    // Every activity and sub-orchestration is started with exactly its contract's input (contracts.ts).
    const checkContract = (action: SdkAction) => {
      if (action.compoundActions) action.compoundActions.forEach(checkContract);
      else if (action.actionType === ActionType.CallActivity) {
        expectActivityContract(action.functionName ?? "", action.input);
      } else if (action.actionType === ActionType.CallSubOrchestrator) {
        expectOrchestratorContract(action.functionName ?? "", action.input);
      }
    };
    actions.forEach(checkContract);
    episodes.push({
      actions,
      duplicates: duplicatedActions(actions),
      customStatus: structuredClone(state.customStatus),
    });
    if (state.isDone) return { episodes, output: state.output, done: true };
    const open = Object.values(orchestrator.taskOrchestrationExecutor.openTasks)
      .filter(
        (t): t is SdkTask & { id: number; actionObj: SdkAction } => typeof t.id === "number" && !!t.actionObj,
      )
      .map((t) => ({ id: t.id, action: t.actionObj }))
      .sort((a, b) => a.id - b.id);
    const step = scenario.next(open, episode);
    if (!step) return { episodes, output: undefined, done: false };
    history.push({ EventType: EventType.OrchestratorCompleted, Timestamp: now });
    // A new episode starts (its OrchestratorStarted first, as DTFx writes it), then the event that woke it.
    const fired =
      "task" in step && step.task.action.actionType === ActionType.CreateTimer
        ? new Date(step.task.action.fireAt as Date).getTime()
        : 0;
    now = new Date(Math.max(now.getTime() + 1, fired));
    history.push({ EventType: EventType.OrchestratorStarted, Timestamp: now });
    if ("event" in step) {
      history.push({
        EventType: EventType.EventRaised,
        Name: step.event,
        Input: JSON.stringify(step.data ?? null),
        Timestamp: now,
      });
    } else {
      const { task, outcome } = step;
      const kind = task.action.actionType;
      if (kind === ActionType.CreateTimer) {
        history.push({ EventType: EventType.TimerFired, TimerId: task.id, FireAt: now, Timestamp: now });
      } else if ("error" in outcome) {
        history.push({
          EventType: EventType.TaskFailed,
          TaskScheduledId: task.id,
          Reason: outcome.error,
          Details: outcome.error,
          Timestamp: now,
        });
      } else {
        history.push({
          EventType:
            kind === ActionType.CallSubOrchestrator
              ? EventType.SubOrchestrationInstanceCompleted
              : EventType.TaskCompleted,
          TaskScheduledId: task.id,
          Result: JSON.stringify(outcome.result ?? null),
          Timestamp: now,
        });
      }
    }
  }
  throw new Error("The orchestration did not finish within the episode limit.");
}
