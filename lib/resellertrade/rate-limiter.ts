/**
 * Adaptive pacing of upstream calls (AIMD): calls are spaced 1/rate apart; every accepted call raises the rate
 * (fast at first, additively once the upstream has pushed back), a throttled call cuts it and pauses everyone
 * for at least the Retry-After. Throttles of calls that started before the last cut do not cut again, so one
 * burst of refusals counts once.
 */
export interface RateLimiter {
  /** Waits for a slot; resolves with the slot's start time, or undefined when none is free before `deadline`. */
  acquire(deadline: number): Promise<number | undefined>;
  onAccepted(): void;
  onThrottled(startedAt: number, retryAfterMs?: number): void;
  readonly rate: number;
}

export interface RateLimiterOptions {
  initialRate: number;
  minRate: number;
  maxRate: number;
  decrease: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  let rate = options.initialRate;
  let nextSlot = 0;
  let lastCut = -Infinity;
  let probing = true;

  return {
    get rate() {
      return rate;
    },
    async acquire(deadline) {
      const t = now();
      const slot = Math.max(t, nextSlot);
      if (slot > deadline) return undefined;
      nextSlot = slot + 1000 / rate;
      if (slot > t) await sleep(slot - t);
      return slot;
    },
    onAccepted() {
      rate = Math.min(options.maxRate, probing ? rate * 1.05 : rate + 1 / rate);
    },
    onThrottled(startedAt, retryAfterMs) {
      if (startedAt <= lastCut) return;
      const t = now();
      lastCut = t;
      probing = false;
      rate = Math.max(options.minRate, rate * options.decrease);
      nextSlot = Math.max(nextSlot, t + Math.max(retryAfterMs ?? 0, 1000 / rate));
    },
  };
}
