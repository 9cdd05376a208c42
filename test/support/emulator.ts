import {
  type EmulatorOptions,
  type RunningEmulator,
  startEmulator,
  type Usage,
} from "../../tools/emulator/index.js";

export type { Usage } from "../../tools/emulator/index.js";

export interface TestEmulator extends RunningEmulator {
  /** `GET /emulator/usage`. */
  usage(): Promise<Usage>;
  /** `POST /emulator/faults` (e.g. `{ status: 500, method: "GET", count: 2 }`). */
  setFault(fault: object): Promise<void>;
  /** `DELETE /emulator/faults`. */
  clearFaults(): Promise<void>;
}

/**
 * A Speech emulator for tests on a free port, in memory, with time scaled so jobs finish in a fraction
 * of a second (start latency 5 s / 1000, a 15,000-character input ~30 ms) and fast audio by default.
 */
export async function startTestEmulator(overrides: EmulatorOptions = {}): Promise<TestEmulator> {
  const emulator = await startEmulator({
    port: 0,
    timeScale: 1000,
    audioMode: "fast",
    env: {},
    ...overrides,
  });
  const headers = { "Ocp-Apim-Subscription-Key": emulator.key };
  const call = async (method: string, path: string, body?: object): Promise<Response> => {
    const response = await fetch(`${emulator.url}${path}`, {
      method,
      headers: body ? { ...headers, "content-type": "application/json" } : headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${await response.text()}`);
    return response;
  };
  return {
    ...emulator,
    stop: () => emulator.stop(),
    async usage() {
      return (await (await call("GET", "/emulator/usage")).json()) as Usage;
    },
    async setFault(fault: object) {
      await (await call("POST", "/emulator/faults", fault)).arrayBuffer();
    },
    async clearFaults() {
      await call("DELETE", "/emulator/faults");
    },
  };
}
