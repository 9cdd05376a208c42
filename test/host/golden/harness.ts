import { createRequire } from "node:module";
import { InvocationContext } from "@azure/functions";
import type { OrchestratorState } from "../../../tools/local-host/durable/actions.js";
import { type EpisodeResult, foldEpisode } from "../../../tools/local-host/durable/episode.js";
import { EventType, type HistoryEvent, historyEvent } from "../../../tools/local-host/durable/history.js";

/**
 * Golden-history harness in the azure-functions-durable-js test style: a history goes in, the real
 * durable-functions 3.5.0 replay (`Orchestrator.handle`, as the worker calls it) answers with its action list,
 * and the host's episode fold turns that into the events and work the Durable extension would produce. The
 * test decides which completions arrive, with which ids, in which order.
 */
const require = createRequire(import.meta.url);
const { Orchestrator } = require("durable-functions/lib/src/orchestrations/Orchestrator.js") as {
  Orchestrator: new (
    fn: OrchestratorFunction,
  ) => { handle(trigger: unknown, context: InvocationContext): Promise<OrchestratorState> };
};

// biome-ignore lint/suspicious/noExplicitAny: the SDK's orchestration context as user code sees it
export type OrchestratorFunction = (context: any) => Generator<unknown, unknown, any>;

const day = 24 * 3600_000;
export const startTime = new Date("2026-01-01T00:00:00.000Z");

export interface GoldenEpisode extends EpisodeResult {
  /** The SDK's cumulative action list (`actions[0]`), JSON round-tripped as the extension receives it. */
  actions: Array<Record<string, unknown>>;
  state: OrchestratorState;
}

export class GoldenRun {
  readonly history: HistoryEvent[] = [];
  now = startTime;
  readonly executionId = "exec0";

  constructor(
    readonly fn: OrchestratorFunction,
    readonly input: unknown = null,
    readonly instanceId = "golden",
    /** The app's function names (lower case), for the extension's unknown-function check. */
    readonly knownFunctions?: { activities: ReadonlySet<string>; orchestrators: ReadonlySet<string> },
  ) {}

  /** Starts the execution: ExecutionStarted in the first episode. */
  async start(): Promise<GoldenEpisode> {
    return this.episode([
      historyEvent(EventType.ExecutionStarted, this.now, {
        Name: "Golden",
        Version: "",
        Input: JSON.stringify(this.input),
        OrchestrationInstance: { InstanceId: this.instanceId, ExecutionId: this.executionId },
        ParentInstance: null,
      }),
    ]);
  }

  /** One episode: OrchestratorStarted + `messages`, the SDK replay, the fold; appends what the host would. */
  async episode(messages: HistoryEvent[], advanceMs = 1_000): Promise<GoldenEpisode> {
    if (this.history.length > 0) this.now = new Date(this.now.getTime() + advanceMs);
    for (const event of this.history) event.IsPlayed = true;
    this.history.push(historyEvent(EventType.OrchestratorStarted, this.now), ...messages);
    const payload = JSON.parse(
      JSON.stringify({
        history: this.history,
        input: this.input,
        instanceId: this.instanceId,
        isReplaying: this.history.some((e) => e.IsPlayed),
        parentInstanceId: null,
        upperSchemaVersion: 1,
        upperSchemaVersionNew: 2,
        longRunningTimerIntervalDuration: "3.00:00:00",
        maximumShortTimerDuration: "6.00:00:00",
        defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
      }),
    ) as Record<string, unknown>;
    const context = new InvocationContext({ functionName: "Golden", invocationId: "golden" });
    let state: OrchestratorState;
    try {
      state = JSON.parse(
        JSON.stringify(await new Orchestrator(this.fn).handle(payload, context)),
      ) as OrchestratorState;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const at = message.indexOf("$OutOfProcData$:");
      if (at < 0) throw error;
      state = JSON.parse(message.slice(at + "$OutOfProcData$:".length)) as OrchestratorState;
    }
    const result = foldEpisode({
      orchestratorName: "Golden",
      executionId: this.executionId,
      history: this.history,
      startedAt: this.now,
      answer: { state },
      maximumShortTimerMs: 6 * day,
      longTimerIntervalMs: 3 * day,
      ...(this.knownFunctions ? { knownFunctions: this.knownFunctions } : {}),
    });
    this.history.push(...result.scheduled);
    if (result.outcome.kind === "running")
      this.history.push(historyEvent(EventType.OrchestratorCompleted, this.now));
    const actions = ((state.actions as unknown[][] | undefined)?.[0] ?? []) as Array<Record<string, unknown>>;
    return { ...result, actions, state };
  }

  completed(id: number, result: unknown): HistoryEvent {
    return historyEvent(EventType.TaskCompleted, this.now, {
      TaskScheduledId: id,
      Result: JSON.stringify(result),
    });
  }

  failed(id: number, reason: string): HistoryEvent {
    return historyEvent(EventType.TaskFailed, this.now, { TaskScheduledId: id, Reason: reason, Details: "" });
  }

  timerFired(id: number): HistoryEvent {
    const created = this.history.find((e) => e.EventType === EventType.TimerCreated && e.EventId === id);
    return historyEvent(EventType.TimerFired, this.now, { TimerId: id, FireAt: created?.FireAt });
  }

  subCompleted(id: number, result: unknown): HistoryEvent {
    return historyEvent(EventType.SubOrchestrationInstanceCompleted, this.now, {
      TaskScheduledId: id,
      Result: JSON.stringify(result),
    });
  }

  raised(name: string, input: unknown): HistoryEvent {
    return historyEvent(EventType.EventRaised, this.now, { Name: name, Input: JSON.stringify(input) });
  }
}

/** Scheduling events as `[id, "Activity(input)"]`, `[id, "Timer"]`, `[id, "Sub(instanceId)"]`: compact goldens. */
export function summary(events: HistoryEvent[]): Array<[number, string]> {
  return events.map((e) => {
    if (e.EventType === EventType.TaskScheduled) return [e.EventId, `${String(e.Name)}(${String(e.Input)})`];
    if (e.EventType === EventType.TimerCreated)
      return [e.EventId, e.Canceled === true ? "Timer(canceled)" : `Timer(${String(e.FireAt)})`];
    return [e.EventId, `${String(e.Name)}[${String(e.InstanceId)}](${String(e.Input)})`];
  });
}

/** Action types of the SDK's cumulative list, compound ones with their children: `WhenAny(A,B)`. */
export function actionShape(actions: Array<Record<string, unknown>>): string[] {
  const names: Record<number, string> = {
    0: "Activity",
    1: "ActivityWithRetry",
    2: "Sub",
    3: "SubWithRetry",
    4: "ContinueAsNew",
    5: "Timer",
    6: "Event",
    11: "WhenAny",
    12: "WhenAll",
  };
  const shape = (a: Record<string, unknown>): string => {
    const name = names[a.actionType as number] ?? String(a.actionType);
    const children = a.compoundActions as Array<Record<string, unknown>> | undefined;
    if (children) return `${name}(${children.map(shape).join(",")})`;
    // The SDK sends string inputs pre-stringified (JSON text); other values as they are.
    if (a.input === undefined) return name;
    return `${name}:${typeof a.input === "string" ? a.input : JSON.stringify(a.input)}`;
  };
  return actions.map(shape);
}
