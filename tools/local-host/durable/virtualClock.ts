/**
 * The host's clock. With `scale` N, virtual time runs N times faster than real time from the moment the host
 * started, so durable timers fire N times sooner and `currentUtcDateTime` (taken from this clock) agrees.
 */
export class VirtualClock {
  #realStart = Date.now();
  #virtualStart: number;

  constructor(
    readonly scale = 1,
    virtualStart = Date.now(),
  ) {
    if (!(scale > 0)) throw new RangeError("LOCAL_HOST_TIME_SCALE must be a positive number");
    this.#virtualStart = virtualStart;
  }

  now(): Date {
    return new Date(this.#virtualStart + (Date.now() - this.#realStart) * this.scale);
  }

  /** Moves the clock forward to `at` (after a restart, virtual time must not run behind stored timestamps). */
  advanceTo(at: Date): void {
    if (at.getTime() > this.now().getTime()) {
      this.#realStart = Date.now();
      this.#virtualStart = at.getTime();
    }
  }

  /** Real milliseconds until virtual time reaches `at`. */
  realDelayUntil(at: Date): number {
    return Math.max(0, (at.getTime() - this.now().getTime()) / this.scale);
  }
}
