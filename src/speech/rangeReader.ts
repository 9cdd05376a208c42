import { PassThrough, Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";

/** Reads bytes `start`…`end` (inclusive) of the blob; the stream must carry exactly that many bytes. */
export type FetchRange = (start: number, end: number) => Promise<NodeJS.ReadableStream>;

/**
 * Bytes fetched for a small read yauzl makes outside the cached end of the file (a local file header, or
 * central directory past the first read): one request also brings the start of the entry after it, which a
 * later stream of that entry takes from here instead of fetching it again.
 */
export const READ_WINDOW_BYTES = 64 * 1024;
/** Windows kept (LRU): a few entries open at once, each with its audio and word-boundary files. */
const KEPT_WINDOWS = 16;
/** A body that sends nothing for this long is cut: the collect fails and is retried, never hangs. */
export const RANGE_IDLE_TIMEOUT_MS = 60_000;

interface Window {
  start: number;
  data: Buffer;
}

function idleWatchdog(ms: number, describe: () => string): Transform {
  let timer: NodeJS.Timeout | undefined;
  const watchdog: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(error, done) {
      clearTimeout(timer);
      done(error);
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      // A consumer holding back (its buffer full: the upload is slow or has not started) is not a stall.
      if (watchdog.readableLength >= watchdog.readableHighWaterMark) return arm();
      watchdog.destroy(new Error(`${describe()}: no data for ${ms} ms.`));
    }, ms);
    timer.unref();
  };
  arm();
  return watchdog;
}

/**
 * yauzl's RandomAccessReader over ranged reads of one blob (`results.zip` behind its SAS URL): the end of
 * the file (end record and central directory) once, then each entry's bytes with their own range, streamed.
 * yauzl asks for a local header (30 bytes, then its name) before each entry: those small reads are served
 * from a window fetched once, which also holds the entry's first bytes (a small file is then read whole in
 * that one request). Byte counts are checked by yauzl (`AssertByteCountStream`): a short body is an error.
 */
export class HttpRangeReader extends yauzl.RandomAccessReader {
  private readonly windows: Window[] = [];

  /**
   * @param tail the last bytes of the blob, already fetched (its end record and usually its whole directory)
   */
  constructor(
    private readonly fetchRange: FetchRange,
    private readonly size: number,
    private readonly tail: Window,
    private readonly idleTimeoutMs = RANGE_IDLE_TIMEOUT_MS,
  ) {
    super();
  }

  /** Cached bytes from `start`: the longest run held by the tail or one window (undefined when none). */
  private cached(start: number): Buffer | undefined {
    for (const window of [this.tail, ...this.windows]) {
      const offset = start - window.start;
      if (offset >= 0 && offset < window.data.length) {
        if (window !== this.tail) {
          // Most recently used last.
          this.windows.splice(this.windows.indexOf(window), 1);
          this.windows.push(window);
        }
        return window.data.subarray(offset);
      }
    }
    return undefined;
  }

  private async fetchBuffer(start: number, end: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream(start, end)) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    if (data.length !== end - start + 1)
      throw new Error(`results.zip: bytes ${start}-${end} came back ${data.length} bytes long.`);
    return data;
  }

  /** One ranged read, watched for a stalled body. */
  private stream(start: number, end: number): Readable {
    const out = idleWatchdog(this.idleTimeoutMs, () => `results.zip bytes ${start}-${end}`);
    this.fetchRange(start, end).then(
      (body) => pipeline(body, out).catch((error: Error) => out.destroy(error)),
      (error: Error) => out.destroy(error),
    );
    return out;
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    const done = callback as (err: Error | null, bytesRead?: number) => void;
    const hit = this.cached(position);
    if (hit && hit.length >= length) {
      hit.copy(buffer, offset, 0, length);
      setImmediate(() => done(null, length));
      return;
    }
    // A window, cut at the tail (never refetch what it holds, unless this read runs into it) and the file's end.
    let stop = Math.min(this.size, position + Math.max(length, READ_WINDOW_BYTES));
    if (position < this.tail.start) stop = Math.min(stop, Math.max(this.tail.start, position + length));
    const end = stop - 1;
    this.fetchBuffer(position, end).then(
      (data) => {
        this.windows.push({ start: position, data });
        if (this.windows.length > KEPT_WINDOWS) this.windows.shift();
        if (data.length < length) return done(new Error("results.zip: read past the end of the file."));
        data.copy(buffer, offset, 0, length);
        done(null, length);
      },
      (error: Error) => done(error),
    );
  }

  /** `end` is exclusive here (yauzl's convention), inclusive in {@link FetchRange}. */
  override _readStreamForRange(start: number, end: number): Readable {
    const hit = this.cached(start);
    if (!hit) return this.stream(start, end - 1);
    const head = hit.subarray(0, end - start);
    if (start + head.length >= end) return Readable.from([Buffer.from(head)]);
    // The window holds the first bytes: send them, then read the rest.
    const out = new PassThrough();
    out.write(Buffer.from(head));
    // pipeline ends `out` with the rest, and destroys the request when yauzl destroys `out`.
    pipeline(this.stream(start + head.length, end - 1), out).catch((error: Error) => out.destroy(error));
    return out;
  }
}
