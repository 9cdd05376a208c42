import { isDeepStrictEqual } from "node:util";
import {
  type ActivityName,
  activityInputs,
  type OrchestratorName,
  orchestratorInputs,
} from "../../src/pipeline/contracts.js";

/**
 * What an orchestrator schedules must be exactly what the activity parses: it must pass the activity's schema
 * and come out of it unchanged (zod strips unknown fields silently, at any depth). Throws otherwise. The
 * orchestrator tests run every scheduled activity through this.
 */
export function expectActivityContract(name: string, input: unknown): void {
  if (!(name in activityInputs)) throw new Error(`No activity contract for ${name}.`);
  expectUnchanged(name, activityInputs[name as ActivityName], input);
}

/** The same for a sub-orchestration: its input must be exactly what the sub-orchestrator parses. */
export function expectOrchestratorContract(name: string, input: unknown): void {
  if (!(name in orchestratorInputs)) throw new Error(`No orchestrator contract for ${name}.`);
  expectUnchanged(name, orchestratorInputs[name as OrchestratorName], input);
}

function expectUnchanged(
  name: string,
  schema: { safeParse(input: unknown): { success: true; data: unknown } | { success: false; error: Error } },
  input: unknown,
): void {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new Error(`${name} was scheduled with an invalid input: ${parsed.error.message}`);
  // JSON round trip: what history carries (undefined fields vanish on both sides).
  const sent = JSON.parse(JSON.stringify(input ?? null));
  const received = JSON.parse(JSON.stringify(parsed.data));
  if (!isDeepStrictEqual(sent, received)) {
    throw new Error(
      `${name} was scheduled with fields its contract drops: sent ${JSON.stringify(sent)}, its receiver sees ${JSON.stringify(received)}`,
    );
  }
}
