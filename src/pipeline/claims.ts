import type { PipelineDeps } from "./deps.js";
import type { ChapterOutcome } from "./runState.js";
import type { ClaimRef } from "./runStore.js";

/** How long a claim holds without being renewed, how often its holder renews it, how often others look. */
export interface ClaimTiming {
  leaseMs: number;
  renewMs: number;
  pollMs: number;
}

/** Realtime synthesis of a long chapter takes a while: a generous lease. */
export const REALTIME_CLAIM_TIMING: ClaimTiming = { leaseMs: 60_000, renewMs: 15_000, pollMs: 1_000 };
/** Storing one chapter from a batch job's results takes seconds: a short lease, so a killed copy's claim is soon free. */
export const STORE_CLAIM_TIMING: ClaimTiming = { leaseMs: 8_000, renewMs: 2_000, pollMs: 200 };

export type Claim =
  | { kind: "claimed"; release: (giveBack: boolean) => Promise<void> }
  | { kind: "done"; outcome: ChapterOutcome };

/**
 * Claims a chapter before it is paid for or stored, so two copies of an activity (at-least-once
 * delivery, a retry while the first copy still runs) never both call Speech for it or both announce it:
 * the claim is created only if none exists (`If-None-Match: *` in the run store). Its holder renews it while
 * working; a copy that finds it waits for the holder's outcome (`finished`), and takes the claim over
 * (`If-Match`, so only one copy can) once it has not been renewed for a lease, i.e. its holder died (a killed
 * host).
 */
export async function claimChapter(
  deps: PipelineDeps,
  claim: ClaimRef,
  finished: () => Promise<ChapterOutcome | undefined>,
  timing: ClaimTiming,
): Promise<Claim> {
  const runs = deps.runs;
  const claimedAt = () => deps.now().toISOString();
  const hold = (etag: string): Claim => {
    let current = etag;
    const timer = setInterval(() => {
      // Taken over (we stalled past the lease: undefined) or a storage hiccup: the outcome write still decides.
      runs
        .renewClaim(claim, claimedAt(), current)
        .then((renewed) => {
          if (renewed) current = renewed;
        })
        .catch(() => {});
    }, timing.renewMs);
    timer.unref();
    return {
      kind: "claimed",
      release: async (giveBack) => {
        clearInterval(timer);
        if (giveBack) await runs.releaseClaim(claim, current).catch(() => false);
      },
    };
  };
  for (;;) {
    const created = await runs.createClaim(claim, claimedAt());
    if (created) return hold(created);
    const outcome = await finished();
    if (outcome) return { kind: "done", outcome };
    const version = await runs.readClaim(claim);
    if (!version) continue; // released in between: try to create it again
    const age = deps.now().getTime() - version.lastModified.getTime();
    if (age > timing.leaseMs) {
      const taken = await runs.renewClaim(claim, claimedAt(), version.etag);
      if (taken) return hold(taken);
      continue; // another copy took it over first
    }
    await new Promise((resolve) => setTimeout(resolve, timing.pollMs));
  }
}
