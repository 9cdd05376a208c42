/** One answered request for a job's results.zip: what a storage log would show. */
export interface ServedDownload {
  id: string;
  /** Clock time (ms) the answer started. */
  at: number;
  method: "GET" | "HEAD";
  status: number;
  /** First and last byte sent (inclusive); absent for HEAD and errors. */
  start?: number;
  end?: number;
  /** The zip's size at the time. */
  size?: number;
}

/** Most recent downloads kept (a book's collect makes a few thousand ranged reads). */
const KEPT = 20_000;

/**
 * Results downloads the emulator served (`GET /emulator/downloads`): lets tests see which byte ranges a
 * client read, and in what order, without timing anything, and the bench see when a client first saw each job
 * succeed and started reading its results. In memory only; not a bill (Blob reads cost no Speech request).
 */
export class DownloadLog {
  private readonly served: ServedDownload[] = [];
  private requests = 0;
  private bytes = 0;
  /** First time a read of each job (GET or list) answered Succeeded: when a client could know. */
  private readonly succeededSeen = new Map<string, number>();

  sawStatus(id: string, status: string, at: number): void {
    if (status === "Succeeded" && !this.succeededSeen.has(id)) this.succeededSeen.set(id, at);
  }

  record(entry: ServedDownload): void {
    this.requests++;
    if (entry.start !== undefined && entry.end !== undefined) this.bytes += entry.end - entry.start + 1;
    this.served.push(entry);
    if (this.served.length > KEPT) this.served.splice(0, this.served.length - KEPT);
  }

  view(id?: string): {
    requests: number;
    bytes: number;
    succeededSeenAt: Record<string, number>;
    served: ServedDownload[];
  } {
    return {
      requests: this.requests,
      bytes: this.bytes,
      succeededSeenAt: Object.fromEntries(
        [...this.succeededSeen].filter(([job]) => id === undefined || job === id),
      ),
      served: id === undefined ? [...this.served] : this.served.filter((s) => s.id === id),
    };
  }
}
