import { describe, expect, it } from 'vitest';
import { MAX_SERVER_WAIT_MS } from '../../../lib/resellertrade/server-wait.js';
import { createRateLimiter, QUIET_RESET_MS, type RateLimiter } from '../../../lib/resellertrade/rate-limiter.js';
import { retryDelay, type RetryPolicy } from '../../../lib/resellertrade/retry.js';
import type { UpstreamOutcome } from '../../../lib/resellertrade/mapping.js';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 1000 };
type Rejected = Extract<UpstreamOutcome, { kind: 'rejected' }>;
const rejected = (retry: Rejected['retry'], retryAfterMs?: number): Rejected => ({
  kind: 'rejected',
  retry,
  blame: 'caller',
  code: 'X',
  message: 'm',
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

describe('retryDelay', () => {
  it('never retries what may have been executed, or a business rejection', () => {
    expect(retryDelay({ kind: 'unknown', code: 'Upstream.Timeout', message: '' }, 1, policy)).toBeUndefined();
    expect(retryDelay({ kind: 'ok', httpStatus: 200 }, 1, policy)).toBeUndefined();
    expect(retryDelay({ ...rejected('none'), blame: 'content' }, 1, policy)).toBeUndefined();
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

/** `n` accepted calls, 25 ms apart (40 of them make a best second of 39 accepted calls). */
async function acceptEvery25ms(limiter: RateLimiter, clock: { advance(ms: number): void }, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await limiter.acquire(100_000);
    limiter.onAccepted();
    clock.advance(25);
  }
}

describe('rate limiter', () => {
  const virtual = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms) };
  };

  it('paces nothing until the first throttle, then spaces calls 1/rate apart and refuses a slot past the deadline', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 100, ...clock });
    expect([await limiter.acquire(1000), await limiter.acquire(1000), await limiter.acquire(1000)]).toEqual([0, 0, 0]);
    limiter.onThrottled(0);
    expect(limiter.rate).toBe(5);
    const a = (await limiter.acquire(10_000)) ?? -1;
    const b = (await limiter.acquire(10_000)) ?? -1;
    expect(a).toBeGreaterThanOrEqual(200);
    expect(b - a).toBe(200);
    expect(await limiter.acquire(clock.now() + 100)).toBeUndefined();
  });

  it('starts pacing at half the rate accepted over the last second, and counts a burst of throttles once', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 1000, ...clock });
    await acceptEvery25ms(limiter, clock, 40);
    const started = clock.now();
    limiter.onThrottled(started);
    expect(limiter.rate).toBe(19.5);
    limiter.onThrottled(started);
    expect(limiter.rate).toBe(19.5);
    const next = (await limiter.acquire(100_000)) ?? 0;
    limiter.onThrottled(next);
    expect(limiter.rate).toBeCloseTo(17.55);
  });

  it('climbs while calls are accepted once pacing has begun', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 1000, ...clock });
    limiter.onThrottled(0);
    for (let i = 0; i < 20; i++) {
      await limiter.acquire(100_000);
      limiter.onAccepted();
    }
    expect(limiter.rate).toBeGreaterThan(5);
  });

  it('climbs back to just under the best second seen, then only slowly beyond it', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 1000, ...clock });
    await acceptEvery25ms(limiter, clock, 40);
    limiter.onThrottled(clock.now());
    for (let i = 0; i < 200; i++) {
      await limiter.acquire(1_000_000);
      limiter.onAccepted();
    }
    expect(limiter.rate).toBeGreaterThan(37);
    expect(limiter.rate).toBeLessThan(37.05 + 0.5 * 6);
  });

  it('lets a huge Retry-After hold the next, unrelated call back no longer than the cap', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 100, ...clock });
    limiter.onThrottled(0, 3_600_000);
    const slot = await limiter.acquire(60_000);
    expect(slot).toBeDefined();
    expect(slot).toBeLessThanOrEqual(MAX_SERVER_WAIT_MS);
  });

  it('forgets the pace once the quota has had time to refill, and sends unpaced again', async () => {
    const clock = virtual();
    const limiter = createRateLimiter({ initialRate: 10, minRate: 1, maxRate: 100, ...clock });
    limiter.onThrottled(0);
    await limiter.acquire(100_000);
    await limiter.acquire(100_000);
    clock.advance(QUIET_RESET_MS + 1000);
    const start = clock.now();
    expect([
      await limiter.acquire(start + 1),
      await limiter.acquire(start + 1),
      await limiter.acquire(start + 1),
    ]).toEqual([start, start, start]);
  });
});
