import { isConditionConflict, isNotFound } from "../storage/blobs.js";
import type { PipelineDeps } from "./deps.js";
import type { ChapterOutcome } from "./runState.js";

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

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

/**
 * Claims a chapter before it is paid for or stored, so two copies of an activity (at-least-once
 * delivery, a retry while the first copy still runs) never both call Speech for it or both announce it:
 * the claim is a create-only blob (`If-None-Match: *`). Its holder renews it while working; a copy that
 * finds it waits for the holder's outcome (`finished`), and takes the claim over (`If-Match`, so only one
 * copy can) once it has not been renewed for a lease, i.e. its holder died (a killed host).
 */
export async function claimChapter(
  deps: PipelineDeps,
  claimBlob: string,
  finished: () => Promise<ChapterOutcome | undefined>,
  timing: ClaimTiming,
): Promise<Claim> {
  const blob = deps.work.getBlockBlobClient(claimBlob);
  const body = () => JSON.stringify({ claimedAt: deps.now().toISOString() });
  const hold = (etag: string | undefined): Claim => {
    let current = etag;
    const timer = setInterval(() => {
      const text = body();
      blob
        .upload(text, Buffer.byteLength(text), { conditions: current ? { ifMatch: current } : {} })
        .then((r) => {
          current = r.etag;
        })
        .catch(() => {
          // Taken over (we stalled past the lease) or storage hiccup: the outcome write still decides.
        });
    }, timing.renewMs);
    timer.unref();
    return {
      kind: "claimed",
      release: async (giveBack) => {
        clearInterval(timer);
        if (giveBack)
          await blob.deleteIfExists({ conditions: current ? { ifMatch: current } : {} }).catch(() => {});
      },
    };
  };
  for (;;) {
    const text = body();
    try {
      const created = await blob.upload(text, Buffer.byteLength(text), { conditions: { ifNoneMatch: "*" } });
      return hold(created.etag);
    } catch (error) {
      if (!isConditionConflict(error)) throw error;
    }
    const outcome = await finished();
    if (outcome) return { kind: "done", outcome };
    let properties: { etag?: string; lastModified?: Date } | undefined;
    try {
      properties = await blob.getProperties();
    } catch (error) {
      if (!isNotFound(error)) throw error;
      continue; // released in between: try to create it again
    }
    const age = deps.now().getTime() - (properties.lastModified?.getTime() ?? 0);
    if (age > timing.leaseMs && properties.etag) {
      try {
        const taken = await blob.upload(text, Buffer.byteLength(text), {
          conditions: { ifMatch: properties.etag },
        });
        return hold(taken.etag);
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
        continue; // another copy took it over first
      }
    }
    await new Promise((resolve) => setTimeout(resolve, timing.pollMs));
  }
}
