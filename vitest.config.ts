import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

/**
 * The `unit` project: test files that start no services (no Azurite, Speech emulator, local host, browser)
 * and no child processes; they run in seconds (`npm run test:unit`). An in-process loopback server (the CLI's
 * recording server, a port probe) is fine. test/support/unitGuard.ts refuses child processes in this project,
 * so a file listed here by mistake fails with a message instead of hanging.
 *
 * Every other test file is `integration`: a new file lands there by default, which always works (it gets the
 * build and Azurite); list it here once it needs neither. See docs/ARCHITECTURE.md, "Tests".
 */
export const unitTests = [
  "test/architecture/unitGuard.test.ts",
  "test/cli/commands.test.ts",
  "test/cli/progressView.test.ts",
  "test/compare/sample.test.ts",
  "test/dashboard/currentRun.test.ts",
  "test/foundation/concurrency.test.ts",
  "test/foundation/settings.test.ts",
  "test/foundation/storageClients.test.ts",
  "test/host/golden.test.ts",
  "test/host/retry-delay.test.ts",
  "test/host/routes.test.ts",
  "test/observability/events.test.ts",
  "test/pipeline/cancelRun.test.ts",
  "test/pipeline/contracts.test.ts",
  "test/pipeline/orchestrator.actions.test.ts",
  "test/pipeline/orchestrator.test.ts",
  "test/pipeline/outputs.test.ts",
  "test/pipeline/planning.test.ts",
  "test/pipeline/planningCore.test.ts",
  "test/pipeline/polling.test.ts",
  "test/pipeline/runStateUseCases.test.ts",
  "test/pipeline/runStore.memory.test.ts",
  "test/pipeline/status.test.ts",
  "test/speech/resultsZip.test.ts",
  "test/speech/unit.test.ts",
  "test/stack/heapFlags.test.ts",
  "test/stack/ports.test.ts",
  "test/text/pronunciations.test.ts",
  "test/text/ssml.test.ts",
  "test/text/suggest.test.ts",
];

// A renamed or deleted file would otherwise silently move nowhere (and a renamed one into integration).
const missing = unitTests.filter((file) => !existsSync(new URL(file, import.meta.url)));
if (missing.length > 0)
  throw new Error(`vitest.config.ts lists unit test files that do not exist: ${missing.join(", ")}`);

export default defineConfig({
  test: {
    pool: "forks",
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: unitTests,
          setupFiles: ["test/support/unitGuard.ts"],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: unitTests,
          // Builds the app and starts one Azurite for this project only.
          globalSetup: ["test/support/globalSetup.ts"],
          // Tests start real services (Azurite, the Speech emulator, the local host): generous timeouts,
          // but no test asserts a duration.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
