import { createRequire } from "node:module";
import path from "node:path";

/**
 * Read-only access to the durable-functions 3.5.0 executor's task bookkeeping (doc §9, option b): after each
 * episode the host asks which tasks the orchestrator tracked, by id, to know what to run and what to check
 * against history. The SDK is pinned; these are its private fields.
 */
export interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: Date | string;
  isCanceled?: boolean;
  retryOptions?: SdkRetryOptions;
}

export interface SdkRetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface SdkTask {
  id: number | string | false;
  actionObj?: SdkAction;
  action?: SdkAction;
  parent?: SdkTask;
  children?: SdkTask[];
  retryOptions?: SdkRetryOptions;
  constructor: { name: string };
}

const trackedKey = Symbol.for("local-host.trackedTasks");
const patchedKey = Symbol.for("local-host.patched");

interface ExecutorPrototype {
  trackOpenTask(this: ExecutorInstance, task: SdkTask): void;
  [patchedKey]?: boolean;
}
interface ExecutorInstance {
  [trackedKey]?: Map<number, SdkTask>;
}

/** Makes the app's copy of the executor remember every task it gives an id to. */
export function instrumentExecutor(appDir: string): void {
  const require = createRequire(path.join(appDir, "package.json"));
  const modulePath = require.resolve("durable-functions/lib/src/orchestrations/TaskOrchestrationExecutor.js");
  const { TaskOrchestrationExecutor } = require(modulePath) as {
    TaskOrchestrationExecutor: { prototype: ExecutorPrototype };
  };
  const proto = TaskOrchestrationExecutor.prototype;
  if (proto[patchedKey]) return;
  const original = proto.trackOpenTask;
  proto.trackOpenTask = function (this: ExecutorInstance, task: SdkTask) {
    original.call(this, task);
    if (typeof task.id === "number" && !task.children) {
      const tracked = this[trackedKey] ?? new Map<number, SdkTask>();
      this[trackedKey] = tracked;
      tracked.set(task.id, task);
    }
  };
  proto[patchedKey] = true;
}

/** Tasks the last execution tracked, by sequence id. */
export function trackedTasks(invocationContext: unknown): Map<number, SdkTask> {
  const df = (invocationContext as { df?: { taskOrchestratorExecutor?: ExecutorInstance } }).df;
  return df?.taskOrchestratorExecutor?.[trackedKey] ?? new Map();
}

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

const actionNames: Record<number, string> = Object.fromEntries(
  Object.entries(ActionType).map(([k, v]) => [v, k]),
);

/** What a tracked task asks the host to do. */
export type PlannedWork =
  | { kind: "activity"; name: string; input: unknown }
  | { kind: "subOrchestration"; name: string; instanceId: string | undefined; input: unknown }
  | { kind: "timer"; fireAt: Date; canceled: boolean }
  | {
      kind: "retryTimer";
      retryOptions: SdkRetryOptions;
      failureIndex: number;
      firstAttemptId: number | undefined;
    }
  | { kind: "unsupported"; what: string };

export function planFor(task: SdkTask): PlannedWork {
  const parent = task.parent;
  if (
    task.constructor.name === "NoOpTask" &&
    parent?.constructor.name === "RetryableTask" &&
    parent.children
  ) {
    const index = parent.children.indexOf(task);
    const action = parent.actionObj;
    if (index % 2 === 1) {
      const first = parent.children[0];
      return {
        kind: "retryTimer",
        retryOptions: parent.retryOptions ??
          action?.retryOptions ?? { firstRetryIntervalInMilliseconds: 1, maxNumberOfAttempts: 1 },
        failureIndex: (index - 1) / 2,
        firstAttemptId: typeof first?.id === "number" ? first.id : undefined,
      };
    }
    return action ? planForAction(action) : { kind: "unsupported", what: "a retry without an action" };
  }
  const action = task.actionObj;
  if (!action) return { kind: "unsupported", what: `a ${task.constructor.name} without an action` };
  if (action.actionType === ActionType.CreateTimer) {
    const canceled = Boolean(
      action.isCanceled || parent?.action?.isCanceled || parent?.actionObj?.isCanceled,
    );
    return { kind: "timer", fireAt: new Date(action.fireAt as Date), canceled };
  }
  return planForAction(action);
}

function planForAction(action: SdkAction): PlannedWork {
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return { kind: "activity", name: String(action.functionName), input: action.input };
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return {
        kind: "subOrchestration",
        name: String(action.functionName),
        instanceId: action.instanceId,
        input: action.input,
      };
    default:
      return {
        kind: "unsupported",
        what: `${actionNames[action.actionType] ?? "action"} (action type ${action.actionType})`,
      };
  }
}

/** Action types anywhere in a (V2, cumulative) action list. */
export function actionTypesIn(actions: unknown): Set<number> {
  const found = new Set<number>();
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      const action = value as { actionType?: unknown; compoundActions?: unknown };
      if (typeof action.actionType === "number") found.add(action.actionType);
      if (action.compoundActions) visit(action.compoundActions);
    }
  };
  visit(actions);
  return found;
}

export function findContinueAsNew(actions: unknown): { input: unknown } | undefined {
  let found: { input: unknown } | undefined;
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      const action = value as { actionType?: unknown; input?: unknown };
      if (action.actionType === ActionType.ContinueAsNew) found = { input: action.input };
    }
  };
  visit(actions);
  return found;
}

/**
 * DTFx `RetryInterceptor.ComputeNextDelay`: the delay before re-attempt `failureIndex + 1` is
 * `firstRetryInterval * backoffCoefficient ^ failureIndex`, capped by `maxRetryInterval` when one is set.
 */
export function retryDelayMs(options: SdkRetryOptions, failureIndex: number): number {
  const backoff =
    options.backoffCoefficient && options.backoffCoefficient > 0 ? options.backoffCoefficient : 1;
  const delay = options.firstRetryIntervalInMilliseconds * backoff ** failureIndex;
  const max = options.maxRetryIntervalInMilliseconds;
  return max && max > 0 ? Math.min(delay, max) : delay;
}
