/**
 * `npm run emulator`: the Speech emulator on PORT (default 7090). State persists under
 * LOCAL_STATE_DIR/emulator when LOCAL_STATE_DIR is set; settings come from EMULATOR_* variables.
 */
import { join } from "node:path";
import { DEFAULT_PORT } from "./constants.js";
import { startEmulator } from "./index.js";

const port = process.env.PORT ? Number(process.env.PORT) : DEFAULT_PORT;
const stateDir = process.env.LOCAL_STATE_DIR ? join(process.env.LOCAL_STATE_DIR, "emulator") : undefined;
const emulator = await startEmulator({ port, ...(stateDir ? { stateDir } : {}) });
console.log(`Speech emulator listening on ${emulator.url}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    emulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
