/**
 * Bounds how many async jobs run at once: the local host's host.json concurrency limits, the emulator's audio
 * workers. A finished job hands its slot straight to the next waiter, so the bound holds between the two.
 */
export class Semaphore {
  #available: number;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#available = Math.max(1, limit);
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#available > 0) this.#available--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#available++;
    }
  }
}
