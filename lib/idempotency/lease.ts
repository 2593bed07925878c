/** How long after its nominal end a lease still holds: covers clock skew between instances. */
export const LEASE_MARGIN_MS = 5000;

/**
 * The lease follows progress: each write holds it only as far as the work it announces (a call in flight, a
 * backoff), never past the invocation's deadline, plus the margin. A delivery that crashed is therefore taken
 * over soon after its last write instead of after the whole function timeout.
 */
export interface LeaseClock {
  now: () => number;
  deadline: number;
}

export function leaseUntil(clock: LeaseClock, aheadMs: number): number {
  return Math.min(clock.now() + aheadMs, clock.deadline) + LEASE_MARGIN_MS;
}

/** A record outlives its lease (plus margin) whatever the TTL, so it can never expire under a running delivery. */
export function keepFor(clock: LeaseClock, lease: number, ttlMs = 0): number {
  return Math.max(ttlMs, lease - clock.now() + LEASE_MARGIN_MS);
}
