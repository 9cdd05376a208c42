import {
  ActionType,
  actionList,
  actionTypeNames,
  retryDelayMs,
  type SdkAction,
  type SdkRetryOptions,
} from "./actions.js";
import { EventType, type HistoryEvent } from "./history.js";

/**
 * How the Durable extension turns a JS orchestrator's action list into Durable Task Framework (DTFx) work, redone
 * here so the host schedules exactly what Azure schedules. Sources (read, not copied):
 * - Azure/azure-functions-durable-extension `src/WebJobs.Extensions.DurableTask/Listener/OutOfProcOrchestrationShim.cs`:
 *   the JS function runs once, when DTFx replays `ExecutionStarted`, with the whole history; then
 *   `ProcessAsyncActionsV2` calls the context API for each action **in order, awaiting each before the next**
 *   (`InvokeAPIFromAction`); `WhenAny`/`WhenAll` call it again for every child, so every child takes a new id
 *   even when the SDK had scheduled it before (azure-functions-durable-js issue #574).
 * - `.../ContextImplementations/DurableOrchestrationContext.cs`: `CreateTimer` splits timers longer than the
 *   provider's maximum (6 days on Azure Storage) into 3-day intervals, one id each, created as each one fires;
 *   `WaitForExternalEvent` keeps waiters as a stack per name and buffers events nobody waits for; retries go to
 *   DTFx `ScheduleWithRetry`.
 * - Azure/durabletask `src/DurableTask.Core/TaskOrchestrationContext.cs`: every `ScheduleTask`, `CreateTimer`
 *   and `CreateSubOrchestrationInstance` takes `idCounter++`; a sub-orchestration without an instance id gets
 *   `<executionId>:<id>`; replayed `TaskScheduled`/`TimerCreated`/`SubOrchestrationInstanceCreated` events must
 *   find an action with their `EventId` (and kind and name), else `NonDeterministicOrchestrationException`;
 *   completions for ids with no open task are ignored; a cancelled timer leaves the open tasks but is still
 *   scheduled; `EventRaised` after `ContinueAsNew` is carried over (Azure Storage default `Carryover`).
 * - `.../RetryInterceptor.cs`: attempt, then a timer of `first * backoff^n` (capped) before the next attempt,
 *   and after the last failure a timer that fires at once; an expired `RetryTimeout` fails without a timer.
 * - `.../TaskOrchestrationExecutor.cs`: continuations run synchronously (`SynchronousTaskScheduler`); the
 *   orchestration completes only when the function has finished **and no task is open**.
 */

/** Work the extension schedules: one DTFx action with its sequence id. */
export type ScheduledAction =
  | { id: number; kind: "activity"; name: string; input: string | undefined }
  | { id: number; kind: "subOrchestration"; name: string; instanceId: string; input: string | undefined }
  | { id: number; kind: "timer"; fireAt: string; canceled: boolean };

export interface SchedulerOptions {
  /** The current execution (default sub-orchestration ids are `<executionId>:<id>`). */
  executionId: string;
  /** Azure Storage `MaximumDelayTime` (6 days): longer timers are split. */
  maximumShortTimerMs: number;
  /** Azure Storage `LongRunningTimerIntervalLength` (3 days). */
  longTimerIntervalMs: number;
  /**
   * The app's activity and orchestrator names (lower case); omitted: every name is known. An unknown one is
   * `ThrowIfFunctionDoesNotExist` inside the async `CallDurableTaskFunctionAsync`: a faulted task, no id, and the
   * shim's walk goes on (the SDK keeps waiting).
   */
  knownFunctions?: { activities: ReadonlySet<string>; orchestrators: ReadonlySet<string> };
}

export interface ScheduleResult {
  /** Actions whose ids are not in history yet, in id order: to append and dispatch. */
  newActions: ScheduledAction[];
  /** `ProcessAsyncActionsV2` awaited every action (the shim's replay finished). */
  walkComplete: boolean;
  /** DTFx open tasks (activities, timers, sub-orchestrations without a completion), cancelled timers excluded. */
  openTasks: number;
  continueAsNew?: { input: unknown };
  /** `EventRaised` events replayed after `ContinueAsNew` was called: DTFx carries them to the next execution. */
  carryOverEvents: HistoryEvent[];
  /** The instance fails: non-determinism (DTFx text) or an action the host cannot run. */
  failure?: { message: string; errorType: string };
  warnings: string[];
}

type Outcome = "succeeded" | "failed" | "canceled";

/** A DTFx task: continuations run synchronously when it settles, as under `SynchronousTaskScheduler`. */
class ReplayTask {
  outcome: Outcome | undefined;
  #continuations: Array<(outcome: Outcome) => void> = [];

  settle(outcome: Outcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    const continuations = this.#continuations;
    this.#continuations = [];
    for (const continuation of continuations) continuation(outcome);
  }

  whenDone(continuation: (outcome: Outcome) => void): void {
    if (this.outcome) continuation(this.outcome);
    else this.#continuations.push(continuation);
  }
}

class NonDeterminism extends Error {}
class Unsupported extends Error {}

const advice = "Was a change made to the orchestrator code after this instance had already started running?";

/** Replays `history` against the SDK's `actions` the way the extension and DTFx do; see the module comment. */
export function scheduleFromActions(
  history: readonly HistoryEvent[],
  actions: unknown,
  options: SchedulerOptions,
): ScheduleResult {
  return new ExtensionReplay(options).run(history, actions);
}

class ExtensionReplay {
  #idCounter = 0;
  /** DTFx `orchestratorActionsMap`: created in this replay and not (yet) matched by a history event. */
  readonly #actions = new Map<number, ScheduledAction>();
  /** DTFx `openTasks`. */
  readonly #open = new Map<number, ReplayTask>();
  readonly #waiters = new Map<string, ReplayTask[]>();
  readonly #buffered = new Map<string, number>();
  #now = 0;
  #list: SdkAction[] = [];
  #cursor = 0;
  #walkComplete = false;
  #continueAsNew: { input: unknown } | undefined;
  readonly #carryOver: HistoryEvent[] = [];
  readonly #warnings: string[] = [];

  constructor(readonly options: SchedulerOptions) {}

  run(history: readonly HistoryEvent[], actions: unknown): ScheduleResult {
    const list = actionList(actions);
    const result = (failure?: ScheduleResult["failure"]): ScheduleResult => ({
      newActions: [...this.#actions.values()].sort((a, b) => a.id - b.id),
      walkComplete: this.#walkComplete,
      openTasks: this.#open.size,
      ...(this.#continueAsNew ? { continueAsNew: this.#continueAsNew } : {}),
      carryOverEvents: this.#carryOver,
      ...(failure ? { failure } : {}),
      warnings: this.#warnings,
    });
    if (typeof list === "string") return result({ message: list, errorType: "ArgumentException" });
    this.#list = list;
    try {
      for (const event of history) this.#process(event);
    } catch (error) {
      if (error instanceof NonDeterminism)
        return result({
          message: `Non-Deterministic workflow detected: ${error.message}`,
          errorType: "NonDeterministicOrchestrationException",
        });
      if (error instanceof Unsupported) return result({ message: error.message, errorType: "NotSupported" });
      throw error;
    }
    return result();
  }

  #process(event: HistoryEvent): void {
    switch (event.EventType) {
      case EventType.OrchestratorStarted:
        this.#now = Date.parse(event.Timestamp);
        return;
      case EventType.ExecutionStarted:
        // The shim's replay starts when DTFx replays ExecutionStarted (TaskOrchestrationShim.Execute).
        this.#walk();
        return;
      case EventType.TaskScheduled:
      case EventType.TimerCreated:
      case EventType.SubOrchestrationInstanceCreated:
        this.#matchScheduled(event);
        return;
      case EventType.TaskCompleted:
      case EventType.SubOrchestrationInstanceCompleted:
        this.#complete(event.TaskScheduledId as number, "succeeded");
        return;
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceFailed:
        this.#complete(event.TaskScheduledId as number, "failed");
        return;
      case EventType.TimerFired:
        this.#complete(event.TimerId as number, "succeeded");
        return;
      case EventType.EventRaised:
        if (this.#continueAsNew) this.#carryOver.push(event);
        else this.#raise(String(event.Name));
        return;
      default:
        return;
    }
  }

  /** `ProcessAsyncActionsV2`: invoke each action, await it (failures ignored), then the next. */
  #walk(): void {
    while (this.#cursor < this.#list.length) {
      const action = this.#list[this.#cursor++] as SdkAction;
      const task = this.#invoke(action);
      if (!task.outcome) {
        task.whenDone(() => this.#walk());
        return;
      }
    }
    this.#walkComplete = true;
  }

  /** `InvokeAPIFromAction`. */
  #invoke(action: SdkAction): ReplayTask {
    switch (action.actionType) {
      case ActionType.CallActivity:
        return this.#activity(action);
      case ActionType.CallActivityWithRetry:
        return this.#retry(() => this.#activity(action), action.retryOptions);
      case ActionType.CallSubOrchestrator:
        return this.#subOrchestration(action);
      case ActionType.CallSubOrchestratorWithRetry:
        return this.#retry(() => this.#subOrchestration(action), action.retryOptions);
      case ActionType.CreateTimer:
        return this.#userTimer(new Date(String(action.fireAt)).getTime(), action.isCanceled === true);
      case ActionType.WaitForExternalEvent:
        return this.#waitForEvent(String(action.externalEventName));
      case ActionType.ContinueAsNew:
        this.#continueAsNew = { input: action.input };
        return settled("succeeded");
      case ActionType.WhenAll:
        return whenAll((action.compoundActions ?? []).map((child) => this.#invoke(child)));
      case ActionType.WhenAny:
        return whenAny((action.compoundActions ?? []).map((child) => this.#invoke(child)));
      default:
        throw new Unsupported(
          `${actionTypeNames[action.actionType] ?? `Action type ${action.actionType}`} (entities, callHttp) is not supported by the local host.`,
        );
    }
  }

  /** A faulted call when the function is unknown (DurableTaskExtension.ThrowIfFunctionDoesNotExist). */
  #unknown(action: SdkAction, kind: "activity" | "orchestrator"): ReplayTask | undefined {
    const known = this.options.knownFunctions;
    const name = String(action.functionName);
    const names = kind === "activity" ? known?.activities : known?.orchestrators;
    if (!names || names.has(name.toLowerCase())) return undefined;
    this.#warnings.push(
      `The function '${name}' doesn't exist, is disabled, or is not an ${kind} function. Like the extension, the call fails without being scheduled and the orchestrator is never told (it waits).`,
    );
    return settled("failed");
  }

  #activity(action: SdkAction): ReplayTask {
    const unknown = this.#unknown(action, "activity");
    if (unknown) return unknown;
    const id = this.#idCounter++;
    const input = action.input === undefined ? undefined : JSON.stringify(activityInput(action.input));
    this.#actions.set(id, { id, kind: "activity", name: String(action.functionName), input });
    return this.#openTask(id);
  }

  #subOrchestration(action: SdkAction): ReplayTask {
    const unknown = this.#unknown(action, "orchestrator");
    if (unknown) return unknown;
    const id = this.#idCounter++;
    const instanceId = action.instanceId?.trim() ? action.instanceId : `${this.options.executionId}:${id}`;
    const input = action.input === undefined ? undefined : JSON.stringify(action.input);
    this.#actions.set(id, {
      id,
      kind: "subOrchestration",
      name: String(action.functionName),
      instanceId,
      input,
    });
    return this.#openTask(id);
  }

  /** DTFx `CreateTimer`; a cancelled one is still scheduled but leaves the open tasks at once. */
  #timer(fireAt: number, canceled = false): ReplayTask {
    const id = this.#idCounter++;
    this.#actions.set(id, { id, kind: "timer", fireAt: new Date(fireAt).toISOString(), canceled });
    const task = this.#openTask(id);
    if (canceled) {
      this.#open.delete(id);
      task.settle("canceled");
    }
    return task;
  }

  /** The extension's `CreateTimer`: a long timer is a chain of intervals, each created when the last fired. */
  #userTimer(fireAt: number, canceled: boolean): ReplayTask {
    const { maximumShortTimerMs, longTimerIntervalMs } = this.options;
    if (fireAt - this.#now <= maximumShortTimerMs) return this.#timer(fireAt, canceled);
    const result = new ReplayTask();
    const next = (intervalFireAt: number, cancel: boolean) => {
      this.#timer(intervalFireAt, cancel).whenDone((outcome) => {
        if (outcome !== "succeeded") return result.settle(outcome);
        const remaining = fireAt - this.#now;
        if (remaining <= 0) return result.settle("succeeded");
        next(this.#now + Math.min(remaining, longTimerIntervalMs), false);
      });
    };
    next(this.#now + longTimerIntervalMs, canceled);
    return result;
  }

  /** DTFx `RetryInterceptor.Invoke`. */
  #retry(attempt: () => ReplayTask, options: SdkRetryOptions | undefined): ReplayTask {
    const retry = options ?? { firstRetryIntervalInMilliseconds: 1, maxNumberOfAttempts: 1 };
    const result = new ReplayTask();
    const firstAttempt = this.#now;
    const timeout =
      retry.retryTimeoutInMilliseconds && retry.retryTimeoutInMilliseconds > 0
        ? retry.retryTimeoutInMilliseconds
        : Number.POSITIVE_INFINITY;
    const run = (retryCount: number) => {
      attempt().whenDone((outcome) => {
        if (outcome === "succeeded") return result.settle("succeeded");
        if (retryCount + 1 >= retry.maxNumberOfAttempts) {
          // "Dummy timer for back-compat": fires at once, then the task fails.
          this.#timer(this.#now).whenDone(() => result.settle("failed"));
          return;
        }
        if (this.#now >= firstAttempt + timeout) {
          this.#warnings.push(
            "retryTimeoutInMilliseconds expired: like DTFx, no retry timer is created and the retry fails at once, while the JS SDK waits for a timer (durable-js issue #629), so the orchestration waits forever.",
          );
          return result.settle("failed");
        }
        this.#timer(this.#now + retryDelayMs(retry, retryCount)).whenDone(() => run(retryCount + 1));
      });
    };
    if (retry.maxNumberOfAttempts <= 0) return settled("succeeded");
    run(0);
    return result;
  }

  /** The extension's `WaitForExternalEvent`: newest waiter first; a buffered event is delivered at once. */
  #waitForEvent(name: string): ReplayTask {
    const task = new ReplayTask();
    const stack = this.#waiters.get(name) ?? [];
    stack.push(task);
    this.#waiters.set(name, stack);
    const buffered = this.#buffered.get(name) ?? 0;
    if (buffered > 0) {
      this.#buffered.set(name, buffered - 1);
      this.#raise(name);
    }
    return task;
  }

  #raise(name: string): void {
    const stack = this.#waiters.get(name);
    const waiter = stack?.pop();
    if (waiter) {
      waiter.settle("succeeded");
      return;
    }
    this.#buffered.set(name, (this.#buffered.get(name) ?? 0) + 1);
  }

  #openTask(id: number): ReplayTask {
    const task = new ReplayTask();
    this.#open.set(id, task);
    return task;
  }

  #complete(id: number, outcome: Outcome): void {
    const task = this.#open.get(id);
    if (!task) return; // DTFx LogDuplicateEvent: nobody waits for this id
    this.#open.delete(id);
    task.settle(outcome);
  }

  /** DTFx `HandleTaskScheduledEvent` / `HandleTimerCreatedEvent` / `HandleSubOrchestrationCreatedEvent`. */
  #matchScheduled(event: HistoryEvent): void {
    const id = event.EventId;
    const action = this.#actions.get(id);
    const name = String(event.Name ?? "");
    if (event.EventType === EventType.TaskScheduled) {
      if (!action)
        throw new NonDeterminism(
          `A previous execution of this orchestration scheduled an activity task with sequence ID ${id} and name '${name}' (version ''), but the current replay execution hasn't (yet?) scheduled this task. ${advice}`,
        );
      if (action.kind !== "activity")
        throw new NonDeterminism(
          `A previous execution of this orchestration scheduled an activity task with sequence number ${id} named '${name}', but the current orchestration replay instead produced a ${actionClass(action)} action with this sequence number. ${advice}`,
        );
      if (action.name.toLowerCase() !== name.toLowerCase())
        throw new NonDeterminism(
          `A previous execution of this orchestration scheduled an activity task with sequence number ${id} named '${name}', but the current orchestration replay instead scheduled an activity task named '${action.name}' with this sequence number.  ${advice}`,
        );
    } else if (event.EventType === EventType.TimerCreated) {
      if (!action)
        throw new NonDeterminism(
          `A previous execution of this orchestration scheduled a timer task with sequence number ${id} but the current replay execution hasn't (yet?) scheduled this task. ${advice}`,
        );
      if (action.kind !== "timer")
        throw new NonDeterminism(
          `A previous execution of this orchestration scheduled a timer task with sequence number ${id} named but the current orchestration replay instead produced a ${actionClass(action)} action with this sequence number. ${advice}`,
        );
    } else {
      const described = `a sub-orchestration task with sequence ID ${id} and name '${name}' (version '', instance ID '${String(event.InstanceId)}')`;
      if (!action)
        throw new NonDeterminism(
          `A previous execution of this orchestration scheduled ${described}, but the current replay execution hasn't (yet?) scheduled this task. ${advice}`,
        );
      if (action.kind !== "subOrchestration")
        throw new NonDeterminism(
          `A previous execution of this orchestration scheduled ${described}, but the current orchestration replay instead produced a ${actionClass(action)} action at this sequence number. ${advice}`,
        );
      if (action.name.toLowerCase() !== name.toLowerCase())
        throw new NonDeterminism(
          `A previous execution of this orchestration scheduled ${described}, but the current orchestration replay instead scheduled a sub-orchestration task with name ${action.name} at this sequence number. ${advice}`,
        );
    }
    this.#actions.delete(id);
  }
}

function actionClass(action: ScheduledAction): string {
  return action.kind === "activity"
    ? "ScheduleTaskOrchestratorAction"
    : action.kind === "timer"
      ? "CreateTimerOrchestratorAction"
      : "CreateSubOrchestrationAction";
}

function settled(outcome: Outcome): ReplayTask {
  const task = new ReplayTask();
  task.settle(outcome);
  return task;
}

/** `Task.WhenAll`: done when every child is (failures included). */
function whenAll(children: ReplayTask[]): ReplayTask {
  const result = new ReplayTask();
  let pending = children.length;
  if (pending === 0) result.settle("succeeded");
  for (const child of children)
    child.whenDone(() => {
      pending--;
      if (pending === 0) result.settle("succeeded");
    });
  return result;
}

/** `Task.WhenAny`: done when the first child is. */
function whenAny(children: ReplayTask[]): ReplayTask {
  const result = new ReplayTask();
  for (const child of children) child.whenDone(() => result.settle("succeeded"));
  return result;
}

/** Inputs the SDK pre-stringified (`Utils.processInput`) are JSON text; the extension passes the value on. */
export function activityInput(input: unknown): unknown {
  if (typeof input !== "string") return input;
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}
