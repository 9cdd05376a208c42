import { createServer } from "node:net";
import { getFreePort } from "../shared/ports.js";
import { waitFor } from "../shared/waitFor.js";

/** The stack's well-known ports (CONTRACT §1). */
export interface StackPorts {
  blob: number;
  queue: number;
  table: number;
  emulator: number;
  host: number;
}

export const DEFAULT_PORTS: StackPorts = {
  blob: 10000,
  queue: 10001,
  table: 10002,
  emulator: 7090,
  host: 7071,
};

/**
 * `fixed`: exactly these ports, failing clearly when one is taken (`npm start`).
 * `prefer`: each default when free, else a free port (`npm run demo`).
 * `free`: free ports only (tests, benches).
 */
export type PortPolicy = "fixed" | "prefer" | "free";

/** Whether a TCP port can be bound on the loopback interface right now. */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
}

export async function choosePorts(
  policy: PortPolicy,
  wanted: Partial<StackPorts> = {},
  {
    busyWaitMs = 10_000,
    pickFreePort = getFreePort,
  }: { busyWaitMs?: number; pickFreePort?: () => Promise<number> } = {},
): Promise<StackPorts> {
  const base = { ...DEFAULT_PORTS, ...wanted };
  const chosen = { ...base };
  // Ports kept as asked are reserved up front: a free port picked earlier for another part (the OS hands
  // out ephemeral ports again once released) must not be one of them.
  const taken = new Set<number>(policy === "free" ? [] : Object.values(base).filter((port) => port !== 0));
  const freePort = async () => {
    let free = await pickFreePort();
    while (taken.has(free)) free = await pickFreePort();
    return free;
  };
  for (const part of Object.keys(base) as (keyof StackPorts)[]) {
    const port = base[part];
    if (policy === "free" || port === 0) {
      chosen[part] = await freePort();
    } else if (!(await isPortFree(port))) {
      if (policy === "prefer") {
        chosen[part] = await freePort();
      } else {
        // A stack killed a moment ago may still be letting go of its ports (Azurite ends with it).
        await waitFor(() => isPortFree(port), { timeoutMs: busyWaitMs, intervalMs: 200 }).catch(() => {
          throw new PortInUseError(
            `Port ${port} (${part}) is already in use. Stop whatever holds it (another \`npm start\`, Azurite or func?) and try again.`,
          );
        });
      }
    }
    taken.add(chosen[part]);
  }
  return chosen;
}
