import { emptyUsage, type JobRecord, type Usage } from "../model.js";

/**
 * What both stores hold in memory and serve reads from: the jobs, the usage bill and the job instances
 * already billed. Each store adds its own persistence.
 */
export abstract class InMemoryState {
  protected readonly jobs = new Map<string, JobRecord>();
  protected bill: Usage = emptyUsage();
  /** Job instances already billed, so a job produced again is not billed twice. */
  protected readonly billedInstances = new Set<string>();
  /** Job instances already counted on the bill (jobs, inputs), so a job stored again is not counted twice. */
  protected readonly countedInstances = new Set<string>();

  getJob(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  listJobs(): JobRecord[] {
    return [...this.jobs.values()].sort(
      (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  findJobByOperation(operationId: string): JobRecord | undefined {
    for (const job of this.jobs.values()) if (job.operationId === operationId) return job;
    return undefined;
  }

  /** Counts a created job on the bill once; false when this instance was already counted. */
  protected countCreated(job: JobRecord): boolean {
    if (this.countedInstances.has(job.instance)) return false;
    this.countedInstances.add(job.instance);
    this.bill.jobs += 1;
    this.bill.inputs += job.request.inputs.length;
    return true;
  }

  usage(): Usage {
    return structuredClone(this.bill);
  }

  /** Drops a job. A deleted instance never comes back (a new PUT gets a new one), so its billing mark goes too. */
  protected forgetJob(id: string): void {
    const instance = this.jobs.get(id)?.instance;
    if (instance) this.billedInstances.delete(instance);
    this.jobs.delete(id);
  }
}
