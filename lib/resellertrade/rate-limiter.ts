import type { QuotaBackend } from '../quota/backend.js';
import { JITTER_CELLS, type Lane } from '../quota/gcra.js';

/** A slot granted by the shared quota; its generation tells a throttle of it from one of an older schedule. */
export interface Granted {
  granted: true;
  generation: number;
}

/** No slot before the deadline (or the quota's store failed): nothing may be sent; `retryAfterMs` says when one would fit. */
export interface Refused {
  granted: false;
  retryAfterMs: number;
  reason: 'deadline' | 'store';
}

export type Slot = Granted | Refused;

/** The pacing of one operation's upstream calls: its seller's quota, in its lane. */
export interface RateLimiter {
  /** Waits for a slot that starts no later than `deadline` (this instance's clock, ms). */
  acquire(deadline: number): Promise<Slot>;
  /** The upstream throttled a call sent in `slot`: the shared rate drops (once per schedule generation). */
  onThrottled(slot: Granted, retryAfterMs?: number): Promise<void>;
}

/** The seller quotas of one instance, over a backend shared by every instance (Redis) or by this process (memory). */
export interface Quota {
  limiter(seller: string, lane: Lane): RateLimiter;
}

export interface QuotaClock {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** When a store that could not be reached is worth asking again. */
export const STORE_RETRY_MS = 1000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createQuota(backend: QuotaBackend, clock: QuotaClock = {}): Quota {
  const now = clock.now ?? Date.now;
  const sleep = clock.sleep ?? defaultSleep;
  // The schedule generation of the latest answer, per seller: learnt from every answer, free. (Answers come in
  // the order the store ran the steps; a schedule forgotten after a quiet time starts again from 0.)
  const generations = new Map<string, number>();
  // The margin the schedule keeps for late sends (in cells of the configured rate, the shortest there are).
  const maxLateMs = (JITTER_CELLS * 1000) / backend.settings.qps;
  const heard = (seller: string, generation: number) => generations.set(seller, generation);
  // The store's usual answer time (falls at once to a faster answer, rises slowly): a store that is always this
  // far away delays every call alike, which bunches nothing; only an answer slower than usual can.
  let usualAnswerMs: number | undefined;
  const answered = (ms: number) => {
    usualAnswerMs = usualAnswerMs === undefined || ms < usualAnswerMs ? ms : usualAnswerMs + (ms - usualAnswerMs) / 20;
    return Math.max(0, ms - usualAnswerMs);
  };

  return {
    limiter(seller, lane) {
      return {
        async acquire(deadline) {
          let ticket = 0;
          for (;;) {
            const maxWaitMs = deadline - now();
            if (maxWaitMs < 0) return { granted: false, retryAfterMs: 0, reason: 'deadline' };
            let decision;
            const asked = now();
            try {
              decision = await backend.reserve(seller, { lane, maxWaitUs: maxWaitMs * 1000, ticket });
            } catch {
              // Fail closed: without the shared schedule, a call could exceed the quota every instance shares.
              return { granted: false, retryAfterMs: STORE_RETRY_MS, reason: 'store' };
            }
            heard(seller, decision.generation);
            if (decision.granted) {
              const replied = now();
              const slowAnswerMs = answered(replied - asked);
              if (decision.waitUs > 0) await sleep(decision.waitUs / 1000);
              // The rate was cut while this slot waited: it was scheduled at the old pace, so queue again.
              const cut = generations.get(seller) !== decision.generation;
              // A slow answer or a timer that fired late would send this call well after its slot, bunched with
              // calls sent on time: beyond the margin the schedule keeps for that, the slot is given up.
              const late = now() - (replied + decision.waitUs / 1000) + slowAnswerMs > maxLateMs;
              if (cut || late) {
                ticket = 0;
                continue;
              }
              return { granted: true, generation: decision.generation };
            }
            const retryAfterMs = decision.retryAfterUs / 1000;
            if (retryAfterMs > deadline - now()) return { granted: false, retryAfterMs, reason: 'deadline' };
            ticket = decision.ticket;
            await sleep(retryAfterMs);
          }
        },
        async onThrottled(slot, retryAfterMs = 0) {
          try {
            heard(seller, await backend.throttled(seller, slot.generation, retryAfterMs * 1000));
          } catch {
            // The next reservation fails closed if the store is really gone; a lost cut only delays the slowdown.
          }
        },
      };
    },
  };
}
