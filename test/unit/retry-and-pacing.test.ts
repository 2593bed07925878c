import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../lib/resellertrade/rate-limiter.js';
import { retryDelay, type RetryPolicy } from '../../lib/resellertrade/retry.js';
import type { UpstreamOutcome } from '../../lib/resellertrade/mapping.js';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 1000 };
type Rejected = Extract<UpstreamOutcome, { kind: 'rejected' }>;
const rejected = (retry: Rejected['retry'], retryAfterMs?: number): Rejected => ({
  kind: 'rejected', retry, terminal: 'refused', code: 'X', message: 'm', ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

describe('retryDelay', () => {
  it('never retries what may have been executed, or a business rejection', () => {
    expect(retryDelay({ kind: 'unknown', code: 'Upstream.Timeout', message: '' }, 1, policy)).toBeUndefined();
    expect(retryDelay({ kind: 'ok', httpStatus: 200 }, 1, policy)).toBeUndefined();
    expect(retryDelay({ ...rejected('none'), terminal: 'business' }, 1, policy)).toBeUndefined();
  });

  it('retries every refusal that proves nothing ran, with capped full jitter', () => {
    for (const reason of ['throttled', 'nonce', 'timestamp', 'token', 'connection'] as const) {
      expect(retryDelay(rejected(reason), 1, policy, () => 0.999)).toBe(199);
    }
    expect(retryDelay(rejected('throttled'), 3, policy, () => 0.5)).toBe(400);
    expect(retryDelay(rejected('throttled'), 4, policy, () => 0.999)).toBe(999);
    expect(retryDelay(rejected('throttled'), 2, policy, () => 0)).toBe(0);
  });

  it('waits at least Retry-After, and stops after maxAttempts', () => {
    expect(retryDelay(rejected('throttled', 1500), 1, policy, () => 0)).toBe(1500);
    expect(retryDelay(rejected('throttled'), 5, policy)).toBeUndefined();
  });
});

describe('rate limiter', () => {
  const virtual = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms) };
  };

  it('spaces calls 1/rate apart and refuses a slot past the deadline', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 100, ...clock });
    expect(await limiter.acquire(1000)).toBe(0);
    expect(await limiter.acquire(1000)).toBe(100);
    expect(await limiter.acquire(1000)).toBe(200);
    expect(await limiter.acquire(250)).toBeUndefined();
  });

  it('halves on the first throttle, counts a burst of throttles once, and pauses', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 100, ...clock });
    const slot = (await limiter.acquire(10_000)) ?? 0;
    limiter.onThrottled(slot);
    expect(limiter.rate).toBe(5);
    limiter.onThrottled(slot);
    expect(limiter.rate).toBe(5);
    const next = (await limiter.acquire(10_000)) ?? 0;
    expect(next).toBeGreaterThanOrEqual(200);
    limiter.onThrottled(next);
    expect(limiter.rate).toBeCloseTo(4.5);
  });

  it('grows while calls are accepted, and never beyond twice the accepted rate in the first phase', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 1000, ...clock });
    for (let i = 0; i < 50; i++) {
      await limiter.acquire(100_000);
      limiter.onAccepted();
    }
    expect(limiter.rate).toBeGreaterThan(10);
    expect(limiter.rate).toBeLessThanOrEqual(2 * 50);
  });
});
