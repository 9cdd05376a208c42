import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getFreePort } from "../../tools/shared/ports.js";
import { acquireStateLock } from "../../tools/stack/lock.js";
import { choosePorts, isPortFree, PortInUseError } from "../../tools/stack/ports.js";

let blocker: Server;
let busyPort: number;

beforeAll(async () => {
  busyPort = await getFreePort();
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(busyPort, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
});

describe("stack ports", () => {
  it("sees a bound port as taken", async () => {
    expect(await isPortFree(busyPort)).toBe(false);
  });

  it("prefer: keeps a free default, replaces a taken one with a distinct free port", async () => {
    const freeDefault = await getFreePort();
    const ports = await choosePorts("prefer", {
      host: busyPort,
      emulator: freeDefault,
      blob: 0,
      queue: 0,
      table: 0,
    });
    expect(ports.emulator).toBe(freeDefault);
    expect(ports.host).not.toBe(busyPort);
    expect(new Set(Object.values(ports)).size).toBe(5);
  });

  it("prefer: a port picked for another part is never one kept as asked (the OS may hand it out again)", async () => {
    const freeDefault = await getFreePort();
    // The first ephemeral port the OS offers is the emulator's free default, as it can be once released.
    const offers = [freeDefault, freeDefault + 1, freeDefault + 2, freeDefault + 3, freeDefault + 4];
    const ports = await choosePorts(
      "prefer",
      { host: busyPort, emulator: freeDefault, blob: 0, queue: 0, table: 0 },
      { pickFreePort: async () => offers.shift() ?? getFreePort() },
    );
    expect(ports.emulator).toBe(freeDefault);
    expect(ports.blob).not.toBe(freeDefault);
    expect(new Set(Object.values(ports)).size).toBe(5);
  });

  it("fixed: names the taken port", async () => {
    await expect(
      choosePorts("fixed", { host: busyPort, emulator: 0, blob: 0, queue: 0, table: 0 }, { busyWaitMs: 300 }),
    ).rejects.toThrow(PortInUseError);
    await expect(
      choosePorts("fixed", { host: busyPort, emulator: 0, blob: 0, queue: 0, table: 0 }, { busyWaitMs: 300 }),
    ).rejects.toThrow(new RegExp(`Port ${busyPort} \\(host\\) is already in use`));
  });
});

describe("state lock", () => {
  it("takes over a stale lock and releases its own", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tts-lock-"));
    try {
      // A pid that cannot be alive: the lock of a stack killed long ago.
      await import("node:fs").then((fs) =>
        fs.writeFileSync(join(dir, "stack.lock.json"), JSON.stringify({ pid: 2 ** 22 + 12345 })),
      );
      const release = await acquireStateLock(dir, 1_000);
      expect(JSON.parse(await readFile(join(dir, "stack.lock.json"), "utf8")).pid).toBe(process.pid);
      release();
      await expect(readFile(join(dir, "stack.lock.json"), "utf8")).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("state lock held by a live stack", () => {
  it("refuses a second stack on the same folder while the first runs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tts-lock-"));
    try {
      const release = await acquireStateLock(dir, 1_000);
      // Another live process (our parent) holds it; without a start time the pid alone decides.
      await import("node:fs").then((fs) =>
        fs.writeFileSync(join(dir, "stack.lock.json"), JSON.stringify({ pid: process.ppid })),
      );
      await expect(acquireStateLock(dir, 300)).rejects.toThrow(/Another stack \(pid \d+\) is running/);
      release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
