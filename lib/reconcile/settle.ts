import type { ChunkRecord } from '../idempotency/types.js';

/*
 * The attribution rule of `coupon reconcile`, pure so that it can be tested on its own.
 *
 * A SendCoupon the function gave up on (its answer timed out or was lost) may still be acted on by the upstream
 * afterwards: a slow call is not a lost one. So "never issued" is concluded only when the chunk's last attempt
 * is older than the upstream timeout plus a settle window, AND GetCouponPage, asked right then, shows no coupon
 * for the uid that other operations do not already account for. Until then the recipient stays UNKNOWN.
 */

/** What reconcile established for one recipient. */
export type Finding =
  | { outcome: 'attributed'; youhuiId: string }
  | { outcome: 'never-issued' }
  | { outcome: 'ambiguous'; reason: string }
  | { outcome: 'unsettled'; until: number };

/** Five minutes: longer than any upstream keeps a call it has accepted, with a wide margin. */
export const DEFAULT_SETTLE_SECONDS = 300;

/**
 * The latest moment a call for this chunk may have started: when the outcome was written; for a chunk left
 * SENDING, the end of the lease of the delivery that was sending it (it may have retried until then).
 */
export function lastAttemptAt(chunk: ChunkRecord | undefined, leaseUntil: number): number {
  if (!chunk) return 0;
  return chunk.state === 'SENDING' ? Math.max(chunk.at, leaseUntil) : chunk.at;
}

/** When nothing can act on the chunk any more: last attempt + upstream timeout + settle window. */
export const settledAfter = (lastAttempt: number, upstreamTimeoutMs: number, settleMs: number): number =>
  lastAttempt + upstreamTimeoutMs + settleMs;

/**
 * Settles one recipient: the coupons GetCouponPage shows for it under the template, less those other operations
 * account for. None left: never issued. As many left as operations that could own one (this one and the others
 * still UNKNOWN for the uid): one is this operation's. Anything else would be a guess, and is refused.
 */
export function attribute(found: readonly string[], taken: ReadonlySet<string>, owners: number): Finding {
  const remaining = [...new Set(found.filter((id) => !taken.has(id)))].sort();
  if (remaining.length === 0) return { outcome: 'never-issued' };
  if (remaining.length === owners) return { outcome: 'attributed', youhuiId: remaining[0] as string };
  return {
    outcome: 'ambiguous',
    reason: `${remaining.length} coupon(s) not accounted for, ${owners} operation(s) that could own them: not all coupons of this template went through this function, or several operations are still UNKNOWN`,
  };
}
