import type { Clock } from "../clock.js";
import { ErrorFactory } from "../errors.js";

/**
 * Sliding-window limit per Speech resource ("100 requests per 10 seconds", S1/S3). Rejected requests
 * do not use up the window. Retry-After is the time until the oldest request leaves it.
 */
export class RateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(
    private readonly limit: { requests: number; windowMs: number } | false,
    private readonly clock: Clock,
    /** false: 429s carry no Retry-After (EMULATOR_RETRY_AFTER=off). */
    private readonly sendRetryAfter = true,
    /** The 429 message (the batch API's documented wording by default). */
    private readonly message?: string,
  ) {}

  /** Throws a 429 SpeechError when the caller is over the limit; otherwise records the request. */
  check(caller: string): void {
    if (!this.limit) return;
    const now = this.clock.now();
    const windowStart = now - this.limit.windowMs;
    const times = (this.windows.get(caller) ?? []).filter((t) => t > windowStart);
    if (times.length >= this.limit.requests) {
      this.windows.set(caller, times);
      const oldest = times[0] ?? now;
      const retryAfterSeconds = Math.max(1, Math.ceil((oldest + this.limit.windowMs - now) / 1000));
      throw ErrorFactory.tooManyRequests(this.sendRetryAfter ? retryAfterSeconds : undefined, this.message);
    }
    times.push(now);
    this.windows.set(caller, times);
  }

  reset(): void {
    this.windows.clear();
  }
}
