import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../tools/local-host/durable/actions.js";

describe("retry timers (DTFx RetryInterceptor)", () => {
  it("waits the first interval times the backoff coefficient per failure, capped by the max interval", () => {
    const options = {
      firstRetryIntervalInMilliseconds: 60_000,
      maxNumberOfAttempts: 5,
      backoffCoefficient: 2,
      maxRetryIntervalInMilliseconds: 150_000,
    };
    expect([0, 1, 2, 3].map((n) => retryDelayMs(options, n))).toEqual([60_000, 120_000, 150_000, 150_000]);
  });

  it("uses a fixed interval without a backoff coefficient or cap", () => {
    const options = { firstRetryIntervalInMilliseconds: 5_000, maxNumberOfAttempts: 3 };
    expect([0, 1, 2].map((n) => retryDelayMs(options, n))).toEqual([5_000, 5_000, 5_000]);
  });
});
