import type { Semaphore } from "../../shared/semaphore.js";
import type { FunctionRunner } from "../bindings.js";
import type { RegisteredFunction } from "../core-api.js";
import { fromTypedData } from "../invoke.js";
import type { HostLogger } from "../logger.js";
import { EventType, type HistoryEvent, historyEvent } from "./history.js";
import type { Instance, Message } from "./instance.js";
import { parseStoredJson } from "./store.js";
import type { VirtualClock } from "./virtualClock.js";

/** What the dispatcher needs from the engine. */
export interface DispatchHost {
  readonly clock: VirtualClock;
  readonly logger: HostLogger;
  readonly runner: FunctionRunner;
  readonly activitySlots: Semaphore;
  readonly stats: { activitiesRun: number; runningSubOrchestrationsOverwritten: number };
  isStopped(): boolean;
  /** Queues a message for an instance's next episode. */
  deliver(instance: Instance, message: Message): void;
  track(work: Promise<unknown>): void;
  live(instanceId: string): Instance | undefined;
  loadKnown(instanceId: string): Promise<Instance | undefined>;
  /** Makes a (finished) instance loaded from storage live again, to report to its parent. */
  adopt(instance: Instance): void;
  start(
    name: string,
    instanceId: string,
    inputJson: string | undefined,
    parent: { instanceId: string; executionId: string; taskId: number },
  ): Promise<"created" | "conflict" | "overwritten">;
  activity(name: string): RegisteredFunction | undefined;
  isOrchestrator(name: string): boolean;
}

/**
 * Runs the work an episode scheduled (activities in process, durable timers on the virtual clock,
 * sub-orchestrations as instances) and delivers each completion, with the id the extension gave the work, to
 * the instance's inbox.
 */
export class WorkDispatcher {
  constructor(private readonly host: DispatchHost) {}

  /** Re-issues work scheduled in history without a recorded completion (activities run again: at least once). */
  dispatchOpenWork(instance: Instance): void {
    for (const [id, event] of instance.scheduled) {
      if (instance.completed.has(id)) continue;
      this.dispatch(instance, event, true);
    }
  }

  /** `recovering`: the work may have been dispatched before the restart (its start messages delivered). */
  dispatch(instance: Instance, event: HistoryEvent, recovering = false): void {
    const executionId = instance.record.executionId;
    const id = event.EventId;
    if (event.EventType === EventType.TaskScheduled) {
      this.host.track(
        this.runActivity(instance, executionId, id, String(event.Name), event.Input as string | undefined),
      );
    } else if (event.EventType === EventType.TimerCreated) {
      if (event.Canceled === true) return;
      this.armTimer(instance, executionId, id, new Date(String(event.FireAt)));
    } else if (event.EventType === EventType.SubOrchestrationInstanceCreated) {
      this.host.track(this.startChild(instance, executionId, id, event, recovering));
    }
  }

  private armTimer(instance: Instance, executionId: string, id: number, fireAt: Date): void {
    const existing = instance.timers.get(id);
    if (existing) clearTimeout(existing);
    const delay = Math.min(this.host.clock.realDelayUntil(fireAt), 2_000_000_000);
    const timer = setTimeout(() => {
      instance.timers.delete(id);
      if (instance.record.executionId !== executionId || this.host.isStopped()) return;
      if (this.host.clock.now() < fireAt) {
        this.armTimer(instance, executionId, id, fireAt);
        return;
      }
      const event = historyEvent(EventType.TimerFired, this.host.clock.now(), {
        TimerId: id,
        FireAt: fireAt.toISOString(),
      });
      this.host.deliver(instance, { kind: "completion", event, executionId });
    }, delay);
    instance.timers.set(id, timer);
  }

  private async runActivity(
    instance: Instance,
    executionId: string,
    id: number,
    name: string,
    inputJson: string | undefined,
  ): Promise<void> {
    await this.host.activitySlots.run(async () => {
      if (this.host.isStopped() || instance.record.executionId !== executionId || instance.terminal) return;
      let event: HistoryEvent;
      const fn = this.host.activity(name);
      if (!fn) {
        event = historyEvent(EventType.TaskFailed, this.host.clock.now(), {
          TaskScheduledId: id,
          Reason: `The function '${name}' doesn't exist, is disabled, or is not an activity function.`,
          Details: "",
        });
      } else {
        try {
          this.host.stats.activitiesRun++;
          const input = inputJson === undefined ? undefined : (JSON.parse(inputJson) as unknown);
          const outcome = await this.host.runner.invoke(
            fn,
            input === undefined ? undefined : { json: JSON.stringify(input) },
          );
          const result = fromTypedData(outcome.response.returnValue ?? undefined);
          event = historyEvent(EventType.TaskCompleted, this.host.clock.now(), {
            TaskScheduledId: id,
            Result: JSON.stringify(Buffer.isBuffer(result) ? result.toString("base64") : (result ?? null)),
          });
        } catch (error) {
          const err = error instanceof Error ? error : new Error(String(error));
          event = historyEvent(EventType.TaskFailed, this.host.clock.now(), {
            TaskScheduledId: id,
            Reason: `Activity function '${name}' failed: ${err.message}`,
            Details: err.stack ?? "",
          });
        }
      }
      if (this.host.isStopped()) return;
      this.host.deliver(instance, { kind: "completion", event, executionId });
    });
  }

  private async startChild(
    parent: Instance,
    executionId: string,
    taskId: number,
    event: HistoryEvent,
    recovering: boolean,
  ): Promise<void> {
    const childId = String(event.InstanceId);
    const name = String(event.Name);
    const existing = this.host.live(childId) ?? (await this.host.loadKnown(childId));
    // After a restart the child may already exist: if it belongs to this task, let it finish (or report).
    if (
      existing &&
      existing.record.parentInstanceId === parent.record.instanceId &&
      existing.record.parentExecutionId === executionId &&
      existing.record.parentTaskId === taskId
    ) {
      if (existing.terminal) {
        this.host.adopt(existing);
        this.notifyParent(existing);
      }
      return;
    }
    // On Azure a start message is delivered once; after a restart the host cannot tell whether this one was.
    // A running child linked to another task most likely got it and was overwritten since: leave it running.
    if (recovering && existing && !existing.terminal) {
      this.host.logger.host(
        "information",
        `Not re-sending the start of sub-orchestration "${childId}" for "${parent.record.instanceId}" task ${taskId}: it is running for another task.`,
      );
      return;
    }
    if (!this.host.isOrchestrator(name)) {
      this.deliverChildFailure(
        parent,
        executionId,
        taskId,
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
      return;
    }
    const created = await this.host.start(name, childId, event.Input as string | undefined, {
      instanceId: parent.record.instanceId,
      executionId,
      taskId,
    });
    if (created === "overwritten") {
      // Azure Storage has no de-dupe for sub-orchestration starts (OrchestrationSessionManager: "De-dupe
      // protection for sub-orchestrations is not implemented"): the start carries a new execution id, the
      // tracking store loads no history for it (AzureTableTrackingStore.GetHistoryEventsAsync, generation
      // mismatch), so a new execution replaces the running one, whose parent task then never completes. DTFx's
      // "Duplicate start event" drop is for a start redelivered to the same execution (handled above).
      this.host.stats.runningSubOrchestrationsOverwritten++;
      this.host.logger.host(
        "warning",
        `"${parent.record.instanceId}" started sub-orchestration "${childId}" (task ${taskId}) while it was running: as on Azure Storage, a new execution replaces the running one, whose parent will wait for ever.`,
      );
    } else if (created === "conflict") {
      // Another start of this id is in progress right now (two parents in the same instant): it wins.
      this.host.logger.host(
        "warning",
        `Sub-orchestration "${childId}" is being started concurrently; this start is dropped.`,
      );
    }
  }

  private deliverChildFailure(parent: Instance, executionId: string, taskId: number, reason: string): void {
    const event = historyEvent(EventType.SubOrchestrationInstanceFailed, this.host.clock.now(), {
      TaskScheduledId: taskId,
      Reason: reason,
      Details: "",
    });
    this.host.deliver(parent, { kind: "completion", event, executionId });
  }

  notifyParent(child: Instance): void {
    const record = child.record;
    if (!record.parentInstanceId || record.parentTaskId === undefined) return;
    const parent = this.host.live(record.parentInstanceId);
    if (!parent || parent.record.executionId !== record.parentExecutionId || parent.terminal) return;
    const now = this.host.clock.now();
    let event: HistoryEvent;
    if (record.runtimeStatus === "Completed") {
      event = historyEvent(EventType.SubOrchestrationInstanceCompleted, now, {
        TaskScheduledId: record.parentTaskId,
        Result: record.output ?? "null",
      });
    } else {
      const output = parseStoredJson(record.output);
      event = historyEvent(EventType.SubOrchestrationInstanceFailed, now, {
        TaskScheduledId: record.parentTaskId,
        Reason:
          record.runtimeStatus === "Terminated"
            ? `Sub-orchestration '${record.instanceId}' was terminated: ${String(output)}`
            : String(output ?? `Sub-orchestration '${record.instanceId}' failed`),
        Details: "",
      });
    }
    this.host.deliver(parent, { kind: "completion", event, executionId: record.parentExecutionId as string });
  }
}
