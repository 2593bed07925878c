/**
 * Where the daily budget is counted, shared by every instance (Redis) or by one process (memory). Each call is
 * one atomic step, so concurrent reservations can never exceed the limit together.
 */
export interface BudgetLedger {
  /** Adds `cents` to `key` only if the total stays within `limitCents`; gives the total after the attempt. */
  reserve(
    key: string,
    cents: number,
    limitCents: number,
    ttlMs: number,
  ): Promise<{ granted: boolean; usedCents: number }>;
  /** Gives back what a send proved was not issued. */
  release(key: string, cents: number): Promise<void>;
  used(key: string): Promise<number>;
}

/** One process only; each method runs without an await, so it is atomic. Expired days are swept on the way. */
export function createMemoryLedger(now: () => number = Date.now): BudgetLedger {
  const days = new Map<string, { cents: number; expiresAt: number }>();
  const live = (key: string) => {
    const entry = days.get(key);
    if (entry && entry.expiresAt <= now()) days.delete(key);
    return days.get(key);
  };
  return {
    async reserve(key, cents, limitCents, ttlMs) {
      const used = live(key)?.cents ?? 0;
      if (used + cents > limitCents) return { granted: false, usedCents: used };
      days.set(key, { cents: used + cents, expiresAt: now() + ttlMs });
      return { granted: true, usedCents: used + cents };
    },
    async release(key, cents) {
      const entry = live(key);
      if (entry) entry.cents = Math.max(0, entry.cents - cents);
    },
    async used(key) {
      return live(key)?.cents ?? 0;
    },
  };
}

/** Where the local stack puts the one memory ledger its functions share (as lib/idempotency/memory.ts does). */
export const SHARED_MEMORY_LEDGER = Symbol.for('coupon-sender.shared-memory-ledger');

type WithSharedLedger = typeof globalThis & { [SHARED_MEMORY_LEDGER]?: BudgetLedger };

export function memoryLedgerOfProcess(): BudgetLedger {
  return (globalThis as WithSharedLedger)[SHARED_MEMORY_LEDGER] ?? createMemoryLedger();
}
