import type { QuotaBackend } from './backend.js';
import { initialState, reserve, throttled, type QuotaSettings, type QuotaState } from './gcra.js';

/** Monotonic microseconds of this process (never 0, which the state reads as "never"). */
const processMicros = () => Math.round(performance.now() * 1000) + 1;

/** One process only: the quota of the memory store (each step runs without an await, so it is atomic). */
export function memoryQuota(settings: QuotaSettings, now: () => number = processMicros): QuotaBackend {
  const states = new Map<string, QuotaState>();
  const stateOf = (key: string) => {
    let state = states.get(key);
    if (!state) states.set(key, (state = initialState()));
    return state;
  };
  return {
    settings,
    reserve: async (key, request) => reserve(stateOf(key), settings, request, now()),
    throttled: async (key, generation, retryAfterUs) =>
      throttled(stateOf(key), settings, generation, retryAfterUs, now()),
  };
}

/** Where the local stack's functions find the one memory quota of their process (as the memory store does). */
export const SHARED_MEMORY_QUOTA = Symbol.for('coupon-sender.shared-memory-quota');

type WithSharedQuota = typeof globalThis & { [SHARED_MEMORY_QUOTA]?: Map<string, QuotaBackend> };

/** The process's memory quota: every function of the process (and every bundle of it) with the same settings paces on one. */
export function memoryQuotaOfProcess(settings: QuotaSettings): QuotaBackend {
  const shared = ((globalThis as WithSharedQuota)[SHARED_MEMORY_QUOTA] ??= new Map());
  const key = `${settings.qps}/${settings.burst}/${settings.bulkShare}`;
  let quota = shared.get(key);
  if (!quota) shared.set(key, (quota = memoryQuota(settings)));
  return quota;
}
