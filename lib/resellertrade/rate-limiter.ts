import { MAX_SERVER_WAIT_MS } from './server-wait.js';

/**
 * Adaptive pacing of upstream calls. Nothing is paced until the upstream first pushes back, so a quiet instance
 * adds no delay at all. That first throttle proves the quota's burst is spent: calls are then spaced 1/rate
 * apart, the rate starting at half of what was accepted over the last second (`initialRate` when too few calls
 * were seen) and climbing quickly (×1.01 per accepted call) back to just under that best second, or until a
 * throttle pins the sustainable rate (×0.9); from then on it is plain AIMD (+0.5 call/s per second, ×0.8 on a
 * throttle). A throttle pauses everyone, and throttles of calls started before the last cut do not cut again.
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
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Phase = 'start' | 'recover' | 'steady';

const MIN_SAMPLES = 5;
/**
 * After this long with no call and no throttle the quota has refilled: the pace learnt is forgotten and calls go
 * out unpaced again, until the upstream pushes back once more.
 */
export const QUIET_RESET_MS = 5000;

/** The first throttle ends an unpaced start: what was accepted over the last second includes the quota's burst. */
const START_CUT = 0.5;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  let rate = options.initialRate;
  let nextSlot = 0;
  let lastCut = -Infinity;
  let phase: Phase = 'start';
  let recoverCeiling = Infinity;
  const accepted: number[] = [];
  let lastActivity = -Infinity;
  const forgetIfQuiet = (t: number) => {
    if (phase === 'start' || t - lastActivity < QUIET_RESET_MS || t - lastCut < QUIET_RESET_MS) return;
    phase = 'start';
    rate = options.initialRate;
    nextSlot = 0;
    recoverCeiling = Infinity;
    accepted.length = 0;
  };
  const clamp = (r: number) => Math.min(options.maxRate, Math.max(options.minRate, r));

  const acceptedLastSecond = (t: number): number => {
    while (accepted.length > 0 && (accepted[0] ?? 0) <= t - 1000) accepted.shift();
    return accepted.length;
  };

  return {
    get rate() {
      return rate;
    },
    async acquire(deadline) {
      forgetIfQuiet(now());
      lastActivity = Math.max(lastActivity, now());
      // Until the upstream has pushed back once, nothing is paced: a quiet instance adds no delay at all.
      if (phase === 'start') return now() <= deadline ? now() : undefined;
      for (;;) {
        const t = now();
        const slot = Math.max(t, nextSlot);
        if (slot > deadline) return undefined;
        nextSlot = slot + 1000 / rate;
        lastActivity = Math.max(lastActivity, slot);
        if (slot <= t) return slot;
        await sleep(slot - t);
        // A slot reserved before a cut would fire into the same empty quota: queue again at the new pace.
        if (lastCut <= t) return slot;
      }
    },
    onAccepted() {
      const t = now();
      lastActivity = Math.max(lastActivity, t);
      accepted.push(t);
      acceptedLastSecond(t);
      if (phase === 'recover') {
        rate = clamp(Math.min(rate * 1.01, recoverCeiling));
        if (rate >= recoverCeiling) phase = 'steady';
      } else if (phase === 'steady') {
        rate = clamp(rate + 0.5 / rate);
      }
    },
    onThrottled(startedAt, retryAfterMs) {
      if (startedAt <= lastCut) return;
      const t = now();
      lastCut = t;
      // What was accepted over the last second bounds what the quota sustains, once there are enough samples.
      const seen = acceptedLastSecond(t);
      const sustained = seen >= MIN_SAMPLES ? (phase === 'start' ? seen : Math.min(rate, seen)) : rate;
      if (phase === 'start') {
        // Climb back no higher than just under the best second seen; AIMD probes beyond it from there.
        recoverCeiling = sustained * 0.95;
        rate = clamp(sustained * START_CUT);
        phase = 'recover';
      } else {
        rate = clamp(sustained * (phase === 'recover' ? 0.9 : 0.8));
        phase = 'steady';
      }
      nextSlot = Math.max(nextSlot, t + Math.max(Math.min(retryAfterMs ?? 0, MAX_SERVER_WAIT_MS), 1000 / rate));
      lastActivity = Math.max(lastActivity, t);
    },
  };
}
