/** One answered request for a job's results.zip: what a storage log would show. */
export interface ServedDownload {
  id: string;
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
 * client read, and in what order, without timing anything. In memory only; not a bill (Blob reads cost no
 * Speech request).
 */
export class DownloadLog {
  private readonly served: ServedDownload[] = [];
  private requests = 0;
  private bytes = 0;

  record(entry: ServedDownload): void {
    this.requests++;
    if (entry.start !== undefined && entry.end !== undefined) this.bytes += entry.end - entry.start + 1;
    this.served.push(entry);
    if (this.served.length > KEPT) this.served.splice(0, this.served.length - KEPT);
  }

  view(id?: string): { requests: number; bytes: number; served: ServedDownload[] } {
    return {
      requests: this.requests,
      bytes: this.bytes,
      served: id === undefined ? [...this.served] : this.served.filter((s) => s.id === id),
    };
  }
}
