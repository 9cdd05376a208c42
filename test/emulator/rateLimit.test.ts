import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../tools/emulator/index.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client } from "./helpers.js";

describe("Speech emulator: 100 requests per 10 seconds", () => {
  let emulator: TestEmulator;
  const clock = new ManualClock();
  beforeAll(async () => {
    emulator = await startTestEmulator({ clock });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("answers the 101st request within the window with 429, Retry-After and the documented message", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      statuses.push((await client(emulator).list()).status);
      clock.advance(50); // 100 requests spread over 5 s
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    const throttled = await client(emulator).list();
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("x-ms-error-code")).toBe("TooManyRequests");
    // The oldest request leaves the window 5 s from now.
    expect(throttled.headers.get("retry-after")).toBe("5");
    expect(await throttled.json()).toEqual({
      error: {
        code: "TooManyRequests",
        message:
          "There are too many recent requests. Each client application can submit up to 100 requests per 10 seconds for each Speech resource.",
      },
    });
    // Emulator controls are not limited; the throttled request is on the bill.
    expect((await emulator.usage()).requests.throttled).toBe(1);
  });

  it("lets requests through again once Retry-After has passed", async () => {
    clock.advance(5_000);
    expect((await client(emulator).list()).status).toBe(200);
  });
});

describe("Speech emulator: rate limit on the real clock", () => {
  it("101 requests sent at once get at least one 429 with Retry-After", async () => {
    const emulator = await startTestEmulator();
    try {
      const responses = await Promise.all(Array.from({ length: 101 }, () => client(emulator).list()));
      const throttled = responses.filter((r) => r.status === 429);
      expect(throttled.length).toBeGreaterThanOrEqual(1);
      expect(Number(throttled[0]?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      await Promise.all(responses.map((r) => r.arrayBuffer()));
    } finally {
      await emulator.stop();
    }
  });
});
