/**
 * One chunk's hold on the budget: `id` names the chunk of its operation (the same for every delivery of it), and
 * `owner` the delivery that holds it now.
 */
export interface ReservationRef {
  id: string;
  owner: string;
}

/**
 * Where the daily budget is counted, shared by every instance (Redis) or by one process (memory). Each call is
 * one atomic step, so concurrent reservations can never exceed the limit together; each is also safe to repeat
 * (a reply lost and the command sent again), because every reservation is remembered by its id for the day:
 * - reserve: an id not held is added to the total only within `limitCents`; an id already held is handed over
 *   to the new owner without being counted again (a delivery that stopped before sending left it held);
 * - release: gives back only an id held by that owner, once; a second release, or one by a delivery whose chunk
 *   another delivery has taken over, changes nothing.
 */
export interface BudgetLedger {
  /** Gives whether `ref` holds its cents now, and the day's total after the attempt. */
  reserve(
    key: string,
    ref: ReservationRef,
    cents: number,
    limitCents: number,
    ttlMs: number,
  ): Promise<{ granted: boolean; usedCents: number }>;
  /** True when this call gave the cents back; false when there was nothing of this owner's to give back. */
  release(key: string, ref: ReservationRef): Promise<boolean>;
  used(key: string): Promise<number>;
}

interface Held {
  cents: number;
  owner: string;
  released: boolean;
}

interface Day {
  cents: number;
  held: Map<string, Held>;
  expiresAt: number;
}

/** One process only; each method runs without an await, so it is atomic. Expired days are swept on the way. */
export function createMemoryLedger(now: () => number = Date.now): BudgetLedger {
  const days = new Map<string, Day>();
  const live = (key: string) => {
    const entry = days.get(key);
    if (entry && entry.expiresAt <= now()) days.delete(key);
    return days.get(key);
  };
  return {
    async reserve(key, ref, cents, limitCents, ttlMs) {
      const day = live(key) ?? { cents: 0, held: new Map<string, Held>(), expiresAt: 0 };
      const held = day.held.get(ref.id);
      if (held && !held.released) {
        held.owner = ref.owner;
        return { granted: true, usedCents: day.cents };
      }
      if (day.cents + cents > limitCents) return { granted: false, usedCents: day.cents };
      day.cents += cents;
      day.held.set(ref.id, { cents, owner: ref.owner, released: false });
      day.expiresAt = now() + ttlMs;
      days.set(key, day);
      return { granted: true, usedCents: day.cents };
    },
    async release(key, ref) {
      const day = live(key);
      const held = day?.held.get(ref.id);
      if (!day || !held || held.released || held.owner !== ref.owner) return false;
      held.released = true;
      day.cents = Math.max(0, day.cents - held.cents);
      return true;
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
