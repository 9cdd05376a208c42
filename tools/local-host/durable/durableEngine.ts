import { performance } from "node:perf_hooks";
import { Semaphore } from "../../shared/semaphore.js";
import type { FunctionRunner } from "../bindings.js";
import type { RegisteredFunction } from "../core-api.js";
import { fromTypedData } from "../invoke.js";
import type { HostLogger } from "../logger.js";
import type { OrchestratorState } from "./actions.js";
import { WorkDispatcher } from "./dispatch.js";
import { foldEpisode } from "./episode.js";
import { EventType, type HistoryEvent, historyEvent } from "./history.js";
import {
  Instance,
  type Message,
  newExecutionId,
  newMessageId,
  OrchestrationStatus,
  startMessage,
  takeBatch,
} from "./instance.js";
import { restoreInstance } from "./recovery.js";
import {
  type DurableStore,
  type InboxMessage,
  type InstanceRecord,
  parseStoredJson,
  type RuntimeStatus,
  terminalStatuses,
} from "./store.js";
import type { VirtualClock } from "./virtualClock.js";

export interface EngineOptions {
  runner: FunctionRunner;
  store: DurableStore;
  clock: VirtualClock;
  logger: HostLogger;
  maxConcurrentActivities: number;
  maxConcurrentOrchestrations: number;
  /** Messages processed per orchestrator episode (Azure Storage `controlQueueBatchSize`, 32). */
  batchSize: number;
}

export interface EngineStats {
  episodes: number;
  replayCpuSeconds: number;
  activitiesRun: number;
  historyEventsMax: number;
  /**
   * Sub-orchestration starts under the id of a running instance: the Azure Storage provider has no de-dupe for
   * them and replaces the running execution (dispatch.ts).
   */
  runningSubOrchestrationsOverwritten: number;
}

/** The Azure Storage provider's timer limits, also passed to the SDK (as the extension does). */
const maximumShortTimerMs = 6 * 24 * 3600_000;
const longTimerIntervalMs = 3 * 24 * 3600_000;

export type CommandResult = "accepted" | "notFound" | "gone";

/**
 * Runs orchestrations the way the Durable Task Framework and the Durable Functions extension do, on the real
 * durable-functions replay: each episode appends the new messages to the history, invokes the orchestrator
 * function with the extension's payload, folds the SDK's action list into new history events the way the
 * extension's shim and DTFx would (`foldEpisode`, `scheduleFromActions`), persists, and then has the dispatcher
 * run activities, timers and sub-orchestrations, whose completions come back as the next episode's messages.
 */
export class DurableEngine {
  readonly #instances = new Map<string, Instance>();
  readonly #work: WorkDispatcher;
  readonly #activitySlots: Semaphore;
  readonly #orchestrationSlots: Semaphore;
  readonly #stats: EngineStats = {
    episodes: 0,
    replayCpuSeconds: 0,
    activitiesRun: 0,
    historyEventsMax: 0,
    runningSubOrchestrationsOverwritten: 0,
  };
  readonly #pendingWork = new Set<Promise<unknown>>();
  /** Ids being started right now (two concurrent starts of one id: the second is a conflict). */
  readonly #starting = new Set<string>();
  #stopped = false;

  constructor(readonly options: EngineOptions) {
    this.#activitySlots = new Semaphore(options.maxConcurrentActivities);
    this.#orchestrationSlots = new Semaphore(options.maxConcurrentOrchestrations);
    this.#work = new WorkDispatcher({
      clock: options.clock,
      logger: options.logger,
      runner: options.runner,
      activitySlots: this.#activitySlots,
      stats: this.#stats,
      isStopped: () => this.#stopped,
      deliver: (instance, message) => this.#deliver(instance, message),
      track: (work) => this.#track(work),
      live: (instanceId) => this.#instances.get(instanceId),
      loadKnown: (instanceId) => this.#loadKnown(instanceId),
      adopt: (instance) => this.#instances.set(instance.record.instanceId, instance),
      start: (name, instanceId, inputJson, parent) => this.start(name, instanceId, inputJson, parent, true),
      activity: (name) => this.#function(name, "activityTrigger"),
      isOrchestrator: (name) => this.isOrchestrator(name),
    });
  }

  get stats(): EngineStats {
    return { ...this.#stats };
  }

  get #log(): HostLogger {
    return this.options.logger;
  }

  #function(name: string, triggerType: string): RegisteredFunction | undefined {
    const fn = this.options.runner.registry.functions.get(name.toLowerCase());
    return fn && fn.trigger.type.toLowerCase() === triggerType.toLowerCase() ? fn : undefined;
  }

  #known: { activities: ReadonlySet<string>; orchestrators: ReadonlySet<string> } | undefined;

  /** The app's activity and orchestrator names, lower case (registrations are fixed once the host runs). */
  #knownFunctions(): { activities: ReadonlySet<string>; orchestrators: ReadonlySet<string> } {
    if (!this.#known) {
      const functions = [...this.options.runner.registry.functions.values()];
      const named = (type: string) =>
        new Set(
          functions.filter((fn) => fn.trigger.type.toLowerCase() === type).map((fn) => fn.name.toLowerCase()),
        );
      this.#known = { activities: named("activitytrigger"), orchestrators: named("orchestrationtrigger") };
    }
    return this.#known;
  }

  orchestratorNames(): string[] {
    return [...this.options.runner.registry.functions.values()]
      .filter((fn) => fn.trigger.type.toLowerCase() === "orchestrationtrigger")
      .map((fn) => fn.name);
  }

  isOrchestrator(name: string): boolean {
    return this.#function(name, "orchestrationTrigger") !== undefined;
  }

  #track(work: Promise<unknown>): void {
    this.#pendingWork.add(work);
    void work.finally(() => this.#pendingWork.delete(work));
  }

  // ---------------------------------------------------------------- client operations

  /**
   * Starts an instance; `conflict` when one with that id is Pending, Running or Suspended, unless
   * `overwriteRunning` (sub-orchestration starts): then the running execution is abandoned and replaced.
   */
  async start(
    name: string,
    instanceId: string,
    inputJson: string | undefined,
    parent?: { instanceId: string; executionId: string; taskId: number },
    overwriteRunning = false,
  ): Promise<"created" | "conflict" | "overwritten"> {
    if (this.#starting.has(instanceId)) return "conflict";
    this.#starting.add(instanceId);
    try {
      return await this.#startUnlocked(name, instanceId, inputJson, parent, overwriteRunning);
    } finally {
      this.#starting.delete(instanceId);
    }
  }

  async #startUnlocked(
    name: string,
    instanceId: string,
    inputJson: string | undefined,
    parent: { instanceId: string; executionId: string; taskId: number } | undefined,
    overwriteRunning: boolean,
  ): Promise<"created" | "conflict" | "overwritten"> {
    const existing = this.#instances.get(instanceId) ?? (await this.#loadKnown(instanceId));
    const overwritten = existing !== undefined && !existing.terminal;
    if (overwritten && !overwriteRunning) return "conflict";
    if (existing) {
      existing.clearTimers();
      this.#instances.delete(instanceId);
      // A running execution being overwritten finishes its current episode first; later ones never run
      // (#schedule only serves the instance the map holds) and its completions are dropped.
      while (existing.busy) await new Promise((resolve) => setTimeout(resolve, 5));
      existing.clearTimers();
      await this.options.store.deleteHistory(instanceId);
      await this.options.store.removeInbox(
        instanceId,
        (await this.options.store.loadInbox(instanceId)).map((m) => m.id),
      );
    }
    const now = this.options.clock.now().toISOString();
    const executionId = newExecutionId();
    const record: InstanceRecord = {
      instanceId,
      name,
      executionId,
      runtimeStatus: "Pending",
      input: inputJson,
      createdTime: now,
      lastUpdatedTime: now,
      parentInstanceId: parent?.instanceId,
      parentExecutionId: parent?.executionId,
      parentTaskId: parent?.taskId,
    };
    const instance = new Instance(record);
    const message = startMessage(instance.record, this.options.clock.now(), inputJson);
    await this.options.store.addInbox({
      id: message.persistedId as string,
      instanceId,
      kind: "start",
      event: message.event,
    });
    await this.options.store.putInstance(record);
    this.#instances.set(instanceId, instance);
    this.#deliver(instance, message);
    return overwritten ? "overwritten" : "created";
  }

  async #loadKnown(instanceId: string): Promise<Instance | undefined> {
    const record = await this.options.store.getInstance(instanceId);
    return record ? new Instance(record) : undefined;
  }

  /** The instance record and current-execution history, from memory or storage. */
  async read(instanceId: string): Promise<{ record: InstanceRecord; history: HistoryEvent[] } | undefined> {
    const live = this.#instances.get(instanceId);
    if (live) return { record: { ...live.record }, history: live.history };
    const record = await this.options.store.getInstance(instanceId);
    if (!record) return undefined;
    return { record, history: [] };
  }

  async history(record: InstanceRecord): Promise<HistoryEvent[]> {
    const live = this.#instances.get(record.instanceId);
    if (live && live.record.executionId === record.executionId) return live.history;
    return (await this.options.store.loadHistory(record.instanceId, record.executionId)).events;
  }

  async list(): Promise<InstanceRecord[]> {
    const stored = await this.options.store.listInstances();
    return stored.map((r) => {
      const live = this.#instances.get(r.instanceId);
      return live ? { ...live.record } : r;
    });
  }

  async raiseEvent(
    instanceId: string,
    eventName: string,
    dataJson: string | undefined,
  ): Promise<CommandResult> {
    const event = historyEvent(EventType.EventRaised, this.options.clock.now(), {
      Name: eventName,
      Input: dataJson,
    });
    return this.#command(instanceId, "event", event);
  }

  async terminate(instanceId: string, reason: string): Promise<CommandResult> {
    const event = historyEvent(EventType.ExecutionTerminated, this.options.clock.now(), {
      Input: JSON.stringify(reason),
    });
    return this.#command(instanceId, "terminate", event);
  }

  async suspend(instanceId: string, reason: string): Promise<CommandResult> {
    const event = historyEvent(EventType.ExecutionSuspended, this.options.clock.now(), { Reason: reason });
    return this.#command(instanceId, "suspend", event);
  }

  async resume(instanceId: string, reason: string): Promise<CommandResult> {
    const event = historyEvent(EventType.ExecutionResumed, this.options.clock.now(), { Reason: reason });
    return this.#command(instanceId, "resume", event);
  }

  async #command(
    instanceId: string,
    kind: InboxMessage["kind"],
    event: HistoryEvent,
  ): Promise<CommandResult> {
    const instance = this.#instances.get(instanceId);
    if (!instance) {
      const stored = await this.options.store.getInstance(instanceId);
      if (!stored) return "notFound";
      return "gone";
    }
    if (instance.terminal) return "gone";
    const id = newMessageId();
    await this.options.store.addInbox({ id, instanceId, kind, event });
    this.#deliver(instance, { persistedId: id, kind, event });
    return "accepted";
  }

  /** Deletes an instance's state; returns how many instances were deleted. */
  async purge(instanceId: string): Promise<number> {
    const live = this.#instances.get(instanceId);
    const stored = live?.record ?? (await this.options.store.getInstance(instanceId));
    if (!stored) return 0;
    if (live) {
      live.clearTimers();
      live.record.runtimeStatus = live.terminal ? live.record.runtimeStatus : "Terminated";
      this.#instances.delete(instanceId);
    }
    const store = this.options.store;
    await store.deleteHistory(instanceId);
    await store.removeInbox(
      instanceId,
      (await store.loadInbox(instanceId)).map((m) => m.id),
    );
    await store.deleteBlobs(instanceId);
    await store.deleteInstance(instanceId);
    return 1;
  }

  // ---------------------------------------------------------------- recovery

  /** Resumes every instance that was not finished when the host last stopped (or was killed). */
  async recover(): Promise<number> {
    const records = (await this.options.store.listInstances()).filter(
      (r) => !terminalStatuses.has(r.runtimeStatus),
    );
    const recovered: Instance[] = [];
    for (const record of records) {
      if (this.#instances.has(record.instanceId)) continue;
      const restored = await restoreInstance(this.options.store, this.options.clock, record);
      this.#instances.set(record.instanceId, restored.instance);
      if (restored.kind === "finished") this.#work.notifyParent(restored.instance);
      else recovered.push(restored.instance);
    }
    for (const instance of recovered) {
      this.#work.dispatchOpenWork(instance);
      this.#schedule(instance);
    }
    if (recovered.length > 0)
      this.#log.host("information", `Resumed ${recovered.length} unfinished orchestration instance(s).`);
    return recovered.length;
  }

  // ---------------------------------------------------------------- episodes

  #deliver(instance: Instance, message: Message): void {
    instance.inbox.push(message);
    this.#schedule(instance);
  }

  #schedule(instance: Instance): void {
    if (instance.busy || this.#stopped || instance.inbox.length === 0) return;
    if (this.#instances.get(instance.record.instanceId) !== instance) return; // purged or overwritten
    instance.busy = true;
    const work = this.#orchestrationSlots
      .run(() => this.#episode(instance))
      .catch((error: unknown) => {
        this.#log.host(
          "error",
          `Orchestration "${instance.record.instanceId}" episode failed: ${describe(error)}`,
        );
      })
      .finally(() => {
        instance.busy = false;
        setImmediate(() => this.#schedule(instance));
      });
    this.#track(work);
  }

  async #episode(instance: Instance): Promise<void> {
    if (instance.terminal) {
      instance.inbox = [];
      return;
    }
    const batch = takeBatch(instance, this.options.batchSize);
    if (batch.length === 0) return;
    const record = instance.record;
    const consumed = batch.flatMap((m) => (m.persistedId ? [m.persistedId] : []));
    const messageIds = new Map<HistoryEvent, string>();
    instance.episode = { messageIds, consumed };
    const control = batch[0]?.kind;

    if (control === "resume" && record.runtimeStatus !== "Suspended") {
      await this.options.store.removeInbox(record.instanceId, consumed);
      return;
    }
    const startedAt = this.#episodeTime(instance);
    const appended: HistoryEvent[] = [historyEvent(EventType.OrchestratorStarted, startedAt)];
    for (const message of batch) {
      if (message.persistedId) messageIds.set(message.event, message.persistedId);
      appended.push(message.event);
    }
    this.#append(instance, appended);

    let newWork: HistoryEvent[] = [];
    if (control === "terminate") {
      const reason = parseStoredJson(batch[0]?.event.Input as string | undefined);
      this.#finish(
        instance,
        "Terminated",
        batch[0]?.event.Input as string | undefined,
        OrchestrationStatus.Terminated,
      );
      this.#log.host("information", `Terminated "${record.instanceId}": ${String(reason)}`);
    } else if (control === "suspend") {
      record.runtimeStatus = "Suspended";
      this.#append(instance, [historyEvent(EventType.OrchestratorCompleted, startedAt)]);
    } else if (control === "resume") {
      record.runtimeStatus = "Running";
      this.#append(instance, [historyEvent(EventType.OrchestratorCompleted, startedAt)]);
    } else {
      newWork = await this.#runOrchestrator(instance, startedAt);
    }
    record.lastUpdatedTime = this.options.clock.now().toISOString();
    const persistStart = performance.now();
    await this.#persist(instance, messageIds, instance.episode.consumed);
    this.#log.host(
      "debug",
      `Persisted "${record.instanceId}" (${batch.length} messages) in ${(performance.now() - persistStart).toFixed(1)} ms`,
    );
    if (instance.terminal) {
      instance.clearTimers();
      this.#work.notifyParent(instance);
      // Finished instances are served from storage; memory holds only live ones, and their pending log goes.
      if (this.#instances.get(record.instanceId) === instance) this.#instances.delete(record.instanceId);
      const leftovers = instance.inbox.flatMap((m) => (m.persistedId ? [m.persistedId] : []));
      instance.inbox = [];
      if (leftovers.length > 0) await this.options.store.removeInbox(record.instanceId, leftovers);
      return;
    }
    for (const event of newWork) this.#work.dispatch(instance, event);
  }

  /** Monotonic episode timestamps on the (possibly scaled) clock. */
  #episodeTime(instance: Instance): Date {
    let now = this.options.clock.now();
    for (let i = instance.history.length - 1; i >= 0; i--) {
      const event = instance.history[i];
      if (event?.EventType === EventType.OrchestratorStarted) {
        const previous = new Date(event.Timestamp);
        if (previous >= now) now = new Date(previous.getTime() + 1);
        break;
      }
    }
    return now;
  }

  #append(instance: Instance, events: HistoryEvent[]): void {
    for (const event of events) {
      instance.history.push(event);
      instance.indexEvent(event);
    }
    this.#stats.historyEventsMax = Math.max(this.#stats.historyEventsMax, instance.history.length);
  }

  async #persist(
    instance: Instance,
    messageIds: Map<HistoryEvent, string>,
    consumed: string[],
  ): Promise<void> {
    const store = this.options.store;
    const record = instance.record;
    const fresh = instance.history.slice(instance.persisted);
    // History and instance row in parallel: recovery trusts a history that ends in ExecutionCompleted over the row.
    // The row is rewritten when something visible changed (or every few seconds for lastUpdatedTime);
    // live instances are read from memory, so this only saves Azurite round trips.
    const rowKey = JSON.stringify([
      record.runtimeStatus,
      record.executionId,
      record.customStatus,
      record.output,
    ]);
    const writeRow = rowKey !== instance.rowKey || Date.now() - instance.rowWrittenAt > 2_000;
    await Promise.all([
      store.appendHistory(record.instanceId, record.executionId, instance.persisted, fresh, messageIds),
      writeRow ? store.putInstance({ ...record }) : undefined,
    ]);
    if (writeRow) {
      instance.rowKey = rowKey;
      instance.rowWrittenAt = Date.now();
    }
    instance.persisted = instance.history.length;
    for (const event of fresh) event.IsPlayed = true;
    if (consumed.length > 0) await store.removeInbox(record.instanceId, consumed);
  }

  #finish(
    instance: Instance,
    status: RuntimeStatus,
    outputJson: string | undefined,
    dtfxStatus: number,
    failure?: unknown,
  ): void {
    const record = instance.record;
    const now = this.options.clock.now();
    this.#append(instance, [
      historyEvent(EventType.OrchestratorCompleted, now),
      historyEvent(EventType.ExecutionCompleted, now, {
        OrchestrationStatus: dtfxStatus,
        Result: outputJson,
        ...(failure ? { FailureDetails: failure } : {}),
      }),
    ]);
    record.runtimeStatus = status;
    record.output = outputJson;
    record.completedTime = now.toISOString();
  }

  /** One orchestrator invocation; returns the scheduling events of new work. */
  async #runOrchestrator(instance: Instance, startedAt: Date): Promise<HistoryEvent[]> {
    const record = instance.record;
    if (record.runtimeStatus === "Pending") record.runtimeStatus = "Running";
    const fn = this.#function(record.name, "orchestrationTrigger");
    if (!fn) {
      this.#fail(
        instance,
        `The function '${record.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
      return [];
    }
    const payload = {
      history: instance.history,
      input: parseStoredJson(record.input),
      instanceId: record.instanceId,
      isReplaying: instance.history.some((e) => e.IsPlayed),
      parentInstanceId: record.parentInstanceId ?? null,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 2,
      longRunningTimerIntervalDuration: "3.00:00:00", // = longTimerIntervalMs
      maximumShortTimerDuration: "6.00:00:00", // = maximumShortTimerMs
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    let state: OrchestratorState = {};
    let thrown: string | undefined;
    try {
      const outcome = await this.options.runner.invoke(fn, { string: JSON.stringify(payload) });
      state = (fromTypedData(outcome.response.returnValue ?? undefined) ?? {}) as OrchestratorState;
    } catch (error) {
      const parsed = parseOutOfProcData(error);
      if (parsed) state = parsed;
      else thrown = describe(error);
    } finally {
      const cpu = process.cpuUsage(cpuBefore);
      this.#stats.replayCpuSeconds += (cpu.user + cpu.system) / 1e6;
      this.#stats.episodes++;
      this.#log.host(
        "debug",
        `Episode of "${record.instanceId}" took ${(performance.now() - wallBefore).toFixed(1)} ms`,
      );
    }
    // The extension's half of the replay (the action-list walk) counts as replay CPU too.
    const foldCpuBefore = process.cpuUsage();
    const episode = foldEpisode({
      orchestratorName: record.name,
      executionId: record.executionId,
      history: instance.history,
      startedAt,
      answer: thrown === undefined ? { state } : { thrown },
      maximumShortTimerMs,
      longTimerIntervalMs,
      knownFunctions: this.#knownFunctions(),
    });
    const foldCpu = process.cpuUsage(foldCpuBefore);
    this.#stats.replayCpuSeconds += (foldCpu.user + foldCpu.system) / 1e6;
    if (episode.customStatus !== undefined) record.customStatus = episode.customStatus;
    for (const warning of episode.warnings) this.#log.host("warning", `"${record.instanceId}": ${warning}`);
    this.#append(instance, episode.scheduled);
    const outcome = episode.outcome;
    switch (outcome.kind) {
      case "failed":
        this.#fail(instance, outcome.message, outcome.errorType);
        return [];
      case "continuedAsNew":
        await this.#continueAsNew(instance, outcome.inputJson, outcome.carryOverEvents);
        return [];
      case "completed":
        this.#finish(instance, "Completed", outcome.outputJson, OrchestrationStatus.Completed);
        return [];
      case "running":
        this.#append(instance, [historyEvent(EventType.OrchestratorCompleted, this.options.clock.now())]);
        return episode.work;
    }
  }

  #fail(instance: Instance, message: string, errorType = "OrchestrationFailureException"): void {
    this.#finish(instance, "Failed", JSON.stringify(message), OrchestrationStatus.Failed, {
      ErrorType: errorType,
      ErrorMessage: message,
    });
    this.#log.host("information", `Orchestration "${instance.record.instanceId}" failed: ${message}`);
  }

  /**
   * A new execution. Events the old one buffered without a waiter are dropped (JS cannot ask the extension to
   * preserve them); `EventRaised` replayed after ContinueAsNew is carried over (DTFx `Carryover`); messages not yet
   * taken into an episode stay in the inbox for the new execution.
   */
  async #continueAsNew(
    instance: Instance,
    inputJson: string,
    carryOverEvents: HistoryEvent[],
  ): Promise<void> {
    const record = instance.record;
    const now = this.options.clock.now();
    this.#append(instance, [
      historyEvent(EventType.OrchestratorCompleted, now),
      historyEvent(EventType.ExecutionCompleted, now, {
        OrchestrationStatus: OrchestrationStatus.ContinuedAsNew,
        Result: inputJson,
      }),
    ]);
    const oldExecution = record.executionId;
    const startId = `${newMessageId()}-can-${oldExecution}`;
    // Persist the old execution's end (with the messages it consumed, which then leave the pending log), the
    // carried-over events and last the new start: recovery (recovery.ts) finishes a switch killed at any point.
    const store = this.options.store;
    await store.appendHistory(
      record.instanceId,
      oldExecution,
      instance.persisted,
      instance.history.slice(instance.persisted),
      instance.episode.messageIds,
    );
    if (instance.episode.consumed.length > 0)
      await store.removeInbox(record.instanceId, instance.episode.consumed);
    instance.episode.consumed = [];
    instance.resetExecution(newExecutionId());
    record.input = inputJson;
    record.runtimeStatus = "Running";
    record.output = undefined;
    const start = startMessage(record, this.options.clock.now(), inputJson, startId);
    const carried: Message[] = [];
    for (const [index, event] of carryOverEvents.entries()) {
      const id = `${startId}-carry-${index.toString().padStart(4, "0")}`;
      const copy = historyEvent(EventType.EventRaised, new Date(event.Timestamp), {
        Name: event.Name,
        Input: event.Input,
      });
      await store.addInbox({ id, instanceId: record.instanceId, kind: "event", event: copy });
      carried.push({ persistedId: id, kind: "event", event: copy });
    }
    await store.addInbox({ id: startId, instanceId: record.instanceId, kind: "start", event: start.event });
    instance.inbox.unshift(start, ...carried);
    this.#track(
      this.options.store.deleteHistory(record.instanceId, record.executionId).catch((error: unknown) => {
        this.#log.host(
          "warning",
          `Could not delete old history of "${record.instanceId}": ${describe(error)}`,
        );
      }),
    );
  }

  /** Stops timers and waits for running episodes and activities to settle. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const instance of this.#instances.values()) instance.clearTimers();
    while (this.#pendingWork.size > 0) await Promise.allSettled([...this.#pendingWork]);
  }
}

/** `OrchestrationFailureError` carries the orchestrator state after this label (durable-js testutils). */
function parseOutOfProcData(error: unknown): OrchestratorState | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const label = "$OutOfProcData$:";
  const at = message.indexOf(label);
  if (at < 0) return undefined;
  try {
    return JSON.parse(message.slice(at + label.length)) as OrchestratorState;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
