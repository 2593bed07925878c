import { describe, expect, it } from 'vitest';
import type { QuotaBackend } from '../../../lib/quota/backend.js';
import { memoryQuota } from '../../../lib/quota/memory.js';
import { createQuota, STORE_RETRY_MS, type Granted } from '../../../lib/resellertrade/rate-limiter.js';
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

/** A virtual clock in ms for the instance and the same time in µs for the schedule (offset: they need not agree). */
function virtual() {
  let t = 5_000;
  const sleeps: number[] = [];
  return {
    now: () => t,
    micros: () => 1e12 + t * 1000,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

/** Two calls at once (a burst of 4 less the margin of 2 kept for late timers), then one every 100 ms. */
const settings = { qps: 10, burst: 4, bulkShare: 0.8 };

describe('pacing on the shared quota', () => {
  it('waits for its slot, and refuses one past the deadline without sleeping, saying when it would fit', async () => {
    const clock = virtual();
    const quota = createQuota(memoryQuota(settings, clock.micros), clock);
    const limiter = quota.limiter('s1', 'interactive');
    expect(await limiter.acquire(clock.now() + 10_000)).toEqual({ granted: true, generation: 0 });
    expect(await limiter.acquire(clock.now() + 10_000)).toEqual({ granted: true, generation: 0 });
    expect(clock.sleeps).toEqual([]);
    expect(await limiter.acquire(clock.now() + 10_000)).toMatchObject({ granted: true });
    expect(clock.sleeps).toEqual([100]);
    const late = await limiter.acquire(clock.now() + 50);
    expect(late).toEqual({ granted: false, retryAfterMs: 100, reason: 'deadline' });
    expect(clock.sleeps).toEqual([100]);
    // Nothing was taken by the refusal: the next caller with time gets that very slot.
    await limiter.acquire(clock.now() + 10_000);
    expect(clock.sleeps).toEqual([100, 100]);
  });

  it('keeps each seller apart', async () => {
    const clock = virtual();
    const quota = createQuota(memoryQuota(settings, clock.micros), clock);
    for (let i = 0; i < 2; i++) await quota.limiter('s1', 'interactive').acquire(clock.now() + 1000);
    await quota.limiter('s2', 'interactive').acquire(clock.now() + 1000);
    expect(clock.sleeps).toEqual([]);
  });

  it('a throttle slows every limiter of the seller; a slot scheduled before the cut queues again at the new pace', async () => {
    const clock = virtual();
    const backend = memoryQuota({ ...settings, burst: 1 }, clock.micros);
    const quota = createQuota(backend, clock);
    const a = quota.limiter('s1', 'interactive');
    const first = (await a.acquire(clock.now() + 10_000)) as Granted;
    // The upstream throttles `first` while another call of the seller waits for its slot (100 ms away).
    const waiting = quota.limiter('s1', 'bulk').acquire(clock.now() + 10_000);
    await a.onThrottled(first);
    await a.onThrottled(first);
    expect(await waiting).toEqual({ granted: true, generation: 1 });
    // 100 ms for the slot scheduled at 10/s, then a new one at 7/s.
    expect(clock.sleeps[0]).toBe(100);
    expect(clock.sleeps.slice(1).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
  });

  it('fails closed when the quota store cannot be reached: no slot, a retry in a second; a lost throttle report is harmless', async () => {
    const broken: QuotaBackend = {
      settings,
      reserve: () => Promise.reject(new Error('redis quota failed: connection refused')),
      throttled: () => Promise.reject(new Error('redis quota failed: connection refused')),
    };
    const limiter = createQuota(broken).limiter('s1', 'interactive');
    expect(await limiter.acquire(Date.now() + 1000)).toEqual({
      granted: false,
      retryAfterMs: STORE_RETRY_MS,
      reason: 'store',
    });
    await expect(limiter.onThrottled({ granted: true, generation: 0 }, 100)).resolves.toBeUndefined();
  });

  it('a bulk caller beyond the horizon waits in line with its ticket, then gets its slot', async () => {
    const clock = virtual();
    const backend = memoryQuota(settings, clock.micros);
    const bulk = createQuota(backend, clock).limiter('s1', 'bulk');
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await bulk.acquire(clock.now() + 60_000));
    expect(results.every((r) => r.granted)).toBe(true);
    // 2 at once, then one every 100 ms: the horizon (250 ms) is never overrun by a bulk slot.
    expect(clock.now() - 5_000).toBe(400);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(250);
  });

  it('a store always 100 ms away delays every call alike and gives up no slot; an answer slower than usual gives its slot up', async () => {
    const clock = virtual();
    const inner = memoryQuota({ qps: 50, burst: 10, bulkShare: 0.8 }, clock.micros);
    const answerMs = [100, 100, 100, 100, 400, 100];
    let reserved = 0;
    const far: QuotaBackend = {
      settings: inner.settings,
      reserve: async (key, request) => {
        const d = await inner.reserve(key, request);
        await clock.sleep(answerMs[reserved++] ?? 100);
        return d;
      },
      throttled: (key, generation, retryAfterUs) => inner.throttled(key, generation, retryAfterUs),
    };
    const limiter = createQuota(far, clock).limiter('s1', 'interactive');
    for (let i = 0; i < 4; i++) expect(await limiter.acquire(clock.now() + 60_000)).toMatchObject({ granted: true });
    expect(reserved).toBe(4);
    // The fifth answer comes 300 ms later than usual: its slot is given up and the next one taken.
    expect(await limiter.acquire(clock.now() + 60_000)).toMatchObject({ granted: true });
    expect(reserved).toBe(6);
  });
});
