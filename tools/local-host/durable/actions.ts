/**
 * The action list the durable-functions SDK returns (`OrchestratorState.actions`, replay schema V2/V3: one
 * cumulative list, nested once as `[[...]]`), as the extension deserializes it (`AsyncAction` in
 * Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/Listener/OutOfProcOrchestrationShim.cs).
 */
export interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  retryOptions?: SdkRetryOptions;
  compoundActions?: SdkAction[];
}

export interface SdkRetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** `OrchestratorState` as the SDK returns it (or carries after `$OutOfProcData$:` when the orchestrator threw). */
export interface OrchestratorState {
  isDone?: boolean;
  actions?: unknown;
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

/** The shim's `AsyncActionType` numbers (durable-functions `ActionType`). */
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
  ScheduledSignalEntity: 10,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export const actionTypeNames: Record<number, string> = Object.fromEntries(
  Object.entries(ActionType).map(([k, v]) => [v, k]),
);

/**
 * The V2/V3 action list: the shim requires the outer array to have length 1
 * (`ReplayOOProcOrchestration`); an empty state (`[[]]`) or none is an empty list.
 */
export function actionList(actions: unknown): SdkAction[] | string {
  if (actions === undefined || actions === null) return [];
  if (!Array.isArray(actions)) return "the orchestrator state has no action list";
  if (actions.length !== 1 || !Array.isArray(actions[0]))
    return `With OOProc schema V3, expected actions array to be of length 1 in outer layer but got size: ${actions.length}`;
  return actions[0] as SdkAction[];
}

/**
 * DTFx `RetryInterceptor.ComputeNextDelay` (Azure/durabletask src/DurableTask.Core/RetryInterceptor.cs): the delay
 * before re-attempt `failureIndex + 1` is `firstRetryInterval * backoffCoefficient ^ failureIndex`, capped by
 * `maxRetryInterval` when one is set.
 */
export function retryDelayMs(options: SdkRetryOptions, failureIndex: number): number {
  const backoff =
    options.backoffCoefficient && options.backoffCoefficient > 0 ? options.backoffCoefficient : 1;
  const delay = options.firstRetryIntervalInMilliseconds * backoff ** failureIndex;
  const max = options.maxRetryIntervalInMilliseconds;
  return max && max > 0 ? Math.min(delay, max) : delay;
}
