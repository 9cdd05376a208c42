import { isDeepStrictEqual } from "node:util";
import { type ActivityName, activityInputs } from "../../src/pipeline/contracts.js";

/**
 * What an orchestrator schedules must be exactly what the activity parses: it must pass the activity's schema
 * and come out of it unchanged (zod strips unknown fields silently, at any depth). Throws otherwise. The
 * orchestrator tests run every scheduled activity through this.
 */
export function expectActivityContract(name: string, input: unknown): void {
  if (!(name in activityInputs)) throw new Error(`No activity contract for ${name}.`);
  const parsed = activityInputs[name as ActivityName].safeParse(input);
  if (!parsed.success)
    throw new Error(`${name} was scheduled with an invalid input: ${parsed.error.message}`);
  // JSON round trip: what history carries (undefined fields vanish on both sides).
  const sent = JSON.parse(JSON.stringify(input ?? null));
  const received = JSON.parse(JSON.stringify(parsed.data));
  if (!isDeepStrictEqual(sent, received)) {
    throw new Error(
      `${name} was scheduled with fields its contract drops: sent ${JSON.stringify(sent)}, the activity sees ${JSON.stringify(received)}`,
    );
  }
}
