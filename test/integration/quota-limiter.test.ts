/**
 * The quota's Lua scripts against a real redis-server: rate and burst, two instances on one schedule, throttle
 * feedback and recovery, the clock taken from Redis TIME (instances with skewed clocks change nothing), lanes in
 * real time, and a store that fails or loses its reply (no slot: nothing may be sent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  currentRate,
  DECREASE,
  initialState,
  RECOVERY_SECONDS,
  reserve,
  type QuotaSettings,
} from '../../lib/quota/gcra.js';
import { redisQuota } from '../../lib/quota/redis.js';
import { createRedisClient, type RedisClient } from '../../lib/redis/client.js';
import { createQuota, type Granted } from '../../lib/resellertrade/rate-limiter.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
const clients: RedisClient[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis.stop();
});

/** A new connection: each stands for one instance. */
const instance = (options: { commandTimeoutMs?: number } = {}) => {
  const c = createRedisClient(redis.url, options);
  clients.push(c);
  return c;
};
let seq = 0;
const seller = () => `seller-${process.pid}-${++seq}`;
const interactive = { lane: 'interactive' as const, maxWaitUs: 60e6, ticket: 0 };
const T0 = 1_000_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The most grants in any window of one second. */
function maxPerSecond(times: number[]): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let hi = 0, lo = 0; hi < s.length; hi++) {
    while (s[lo]! <= s[hi]! - 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('the quota script in Redis', () => {
  it('lets a burst (less its margin) start at once, then spaces calls 1/qps apart', async () => {
    const backend = redisQuota(instance(), { qps: 20, burst: 5, bulkShare: 0.8 });
    // The connection and the script's first load are not part of the schedule.
    await backend.reserve(seller(), interactive);
    const key = seller();
    // Pipelined on one connection: Redis runs the 12 steps back to back, within a millisecond or two.
    const waits = (await Promise.all(Array.from({ length: 12 }, () => backend.reserve(key, interactive)))).map((d) =>
      d.granted ? d.waitUs / 1000 : NaN,
    );
    // A burst of 5 less the margin of 2 kept for late timers: 3 at once, then one every 50 ms.
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    // Each wait is measured from when Redis ran that step: a busy machine may space the steps a few ms apart.
    for (let i = 3; i < 12; i++) expect(Math.abs(waits[i]! - (i - 2) * 50)).toBeLessThan(20);
    for (let i = 4; i < 12; i++) expect(Math.abs(waits[i]! - waits[i - 1]! - 50)).toBeLessThan(15);
  });

  it.each([
    ['bulk only', Array.from({ length: 24 }, () => 'bulk' as const)],
    ['interactive only', Array.from({ length: 16 }, () => 'interactive' as const)],
    ['mixed', Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? ('interactive' as const) : ('bulk' as const)))],
  ])('the script decides as lib/quota/gcra.ts does (%s)', async (_name, lanes) => {
    // Cells of 33.3 ms: no decision falls exactly on the bulk horizon (250 ms), where a microsecond could tip it.
    const settings: QuotaSettings = { qps: 30, burst: 6, bulkShare: 0.8 };
    const backend = redisQuota(instance(), settings);
    await backend.reserve(seller(), interactive);
    const key = seller();
    const requests = lanes.map((lane, i) => ({ lane, maxWaitUs: i % 5 === 4 ? 110_000 : 60e6, ticket: 0 }));
    // Pipelined: Redis runs them back to back, so its clock moves by a few milliseconds at most.
    const fromRedis = await Promise.all(requests.map((r) => backend.reserve(key, r)));
    const state = initialState();
    const fromTs = requests.map((r) => reserve(state, settings, r, T0));
    expect(fromRedis.map((d) => d.granted)).toEqual(fromTs.map((d) => d.granted));
    fromRedis.forEach((d, i) => {
      const ts = fromTs[i]!;
      const us = (x: typeof d) => (x.granted ? x.waitUs : x.retryAfterUs);
      expect(Math.abs(us(d) - us(ts))).toBeLessThan(10_000);
    });
  });

  it('shares one schedule between instances: 4 instances of 10 greedy callers never exceed qps + burst in any second', async () => {
    const settings: QuotaSettings = { qps: 25, burst: 5, bulkShare: 0.8 };
    const key = seller();
    const granted: number[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const quota = createQuota(redisQuota(instance(), settings));
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            const limiter = quota.limiter(key, 'interactive');
            while (Date.now() - started < 2500) {
              const slot = await limiter.acquire(Date.now() + 10_000);
              if (slot.granted) granted.push(performance.now());
            }
          }),
        );
      }),
    );
    expect(maxPerSecond(granted)).toBeLessThanOrEqual(settings.qps + settings.burst);
    // And the quota is used (on a busy machine some slots are given up, their timers having fired too late).
    expect(granted.length).toBeGreaterThanOrEqual(25 * 2.5 * 0.6);
  });

  it('takes its clock from Redis TIME: instances whose clocks are an hour apart share the schedule unchanged', async () => {
    const settings: QuotaSettings = { qps: 20, burst: 1, bulkShare: 0.8 };
    const key = seller();
    const ahead = createQuota(redisQuota(instance(), settings), { now: () => Date.now() + 3_600_000 });
    const behind = createQuota(redisQuota(instance(), settings), { now: () => Date.now() - 3_600_000 });
    const aheadClock = () => Date.now() + 3_600_000;
    const behindClock = () => Date.now() - 3_600_000;
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const [a, b] = await Promise.all([
        ahead.limiter(key, 'interactive').acquire(aheadClock() + 2000),
        behind.limiter(key, 'interactive').acquire(behindClock() + 2000),
      ]);
      expect(a.granted && b.granted).toBe(true);
      times.push(performance.now());
    }
    // 20 grants at 20/s with a burst of 1: about a second, whichever instance asked.
    expect(times[9]! - times[0]!).toBeGreaterThan(850);
    // The schedule is written in Redis's microseconds: its next cell is within a second of Redis TIME.
    const [sec, usec] = (await instance().call('TIME')) as [string, string];
    const redisNow = Number(sec) * 1e6 + Number(usec);
    const tat = Number(await instance().call('HGET', `coupon:quota:${key}`, 'tat'));
    expect(Math.abs(tat - redisNow)).toBeLessThan(1e6);
  });

  it('cuts the shared rate once per generation on a throttle, pauses for Retry-After, and recovers linearly', async () => {
    const settings: QuotaSettings = { qps: 100, burst: 1, bulkShare: 0.8 };
    const key = seller();
    const one = redisQuota(instance(), settings);
    const other = redisQuota(instance(), settings);
    const d = await one.reserve(key, interactive);
    expect(await one.throttled(key, d.generation, 0)).toBe(d.generation + 1);
    // The same call's throttle seen by another instance (or a second throttle of that schedule) cuts nothing more.
    expect(await other.throttled(key, d.generation, 0)).toBe(d.generation + 1);
    const client = instance();
    const state = async () => {
      const [base, cut, gen] = (await client.call('HMGET', `coupon:quota:${key}`, 'base', 'cut', 'gen')) as string[];
      const [sec, usec] = (await client.call('TIME')) as [string, string];
      const s = { ...initialState(), base: Number(base), cutAt: Number(cut), generation: Number(gen) };
      return { rate: currentRate(s, settings, Number(sec) * 1e6 + Number(usec)), s };
    };
    const after = await state();
    expect(after.s.base).toBeCloseTo(100 * DECREASE, 3);
    expect(after.rate).toBeLessThan(100 * DECREASE + 1);
    // Slots after the cut are 1/70 s apart, for every instance.
    const waits = (await Promise.all(Array.from({ length: 6 }, () => other.reserve(key, interactive)))).map((d) =>
      d.granted ? d.waitUs / 1000 : NaN,
    );
    expect(Math.abs(waits[5]! - waits[1]! - (4 * 1000) / 70)).toBeLessThan(4);
    await sleep(1500);
    const recovered = await state();
    expect(recovered.rate).toBeGreaterThan(100 * DECREASE + (100 / RECOVERY_SECONDS) * 1.4);
    // Retry-After pauses the whole schedule (another cut, of the current generation).
    const g = (await one.reserve(key, interactive)).generation;
    await one.throttled(key, g, 2_000_000);
    const paused = await other.reserve(key, interactive);
    expect(paused.granted && paused.waitUs).toBeGreaterThan(1_900_000);
  });

  it('a schedule forgotten after a quiet time (its key expired) starts again for an instance that saw cuts', async () => {
    const settings: QuotaSettings = { qps: 50, burst: 4, bulkShare: 0.8 };
    const key = seller();
    const limiter = createQuota(redisQuota(instance(), settings)).limiter(key, 'interactive');
    const slot = (await limiter.acquire(Date.now() + 1000)) as Granted;
    await limiter.onThrottled(slot);
    expect(await limiter.acquire(Date.now() + 1000)).toMatchObject({ granted: true, generation: 1 });
    await instance().call('DEL', `coupon:quota:${key}`);
    expect(await limiter.acquire(Date.now() + 1000)).toMatchObject({ granted: true, generation: 0 });
    expect(Number(await instance().call('PTTL', `coupon:quota:${key}`))).toBeGreaterThan(500_000);
  });

  it('lanes in real time: saturating bulk work leaves interactive calls a short wait, and bulk the rest of the quota', async () => {
    const settings: QuotaSettings = { qps: 50, burst: 5, bulkShare: 0.8 };
    const key = seller();
    const quota = createQuota(redisQuota(instance(), settings));
    const other = createQuota(redisQuota(instance(), settings));
    const until = Date.now() + 3000;
    const grants: Array<{ lane: string; at: number }> = [];
    const bulkWorker = async () => {
      const limiter = quota.limiter(key, 'bulk');
      while (Date.now() < until) {
        const slot = await limiter.acquire(Date.now() + 10_000);
        if (slot.granted) grants.push({ lane: 'bulk', at: Date.now() });
        await sleep(10);
      }
    };
    const waits: number[] = [];
    const clicks = async () => {
      await sleep(500);
      while (Date.now() < until - 300) {
        const asked = Date.now();
        const slot = await other.limiter(key, 'interactive').acquire(asked + 10_000);
        if (slot.granted) {
          waits.push(Date.now() - asked);
          grants.push({ lane: 'interactive', at: Date.now() });
        }
        await sleep(100);
      }
    };
    await Promise.all([...Array.from({ length: 24 }, bulkWorker), clicks()]);
    expect(waits.length).toBeGreaterThan(15);
    expect(Math.max(...waits)).toBeLessThan(450);
    const bulk = grants.filter((g) => g.lane === 'bulk').length;
    expect(bulk).toBeGreaterThan(50 * 3 * 0.6);
    expect(maxPerSecond(grants.map((g) => g.at))).toBeLessThanOrEqual(55 + 2);
  });

  it('fails closed when Redis is gone or its reply is lost: no slot, a retry later, never a throw', async () => {
    const own = await startRedis();
    const client = createRedisClient(own.url, { commandTimeoutMs: 200 });
    const limiter = createQuota(redisQuota(client, { qps: 10, burst: 1, bulkShare: 0.8 })).limiter('s', 'interactive');
    expect(await limiter.acquire(Date.now() + 1000)).toMatchObject({ granted: true });
    // The reply is lost: Redis runs nothing for 600 ms, the client gives up after 200.
    const admin = createRedisClient(own.url);
    await admin.call('CLIENT', 'PAUSE', '600', 'ALL');
    expect(await limiter.acquire(Date.now() + 5000)).toMatchObject({ granted: false, reason: 'store' });
    admin.disconnect();
    await sleep(700);
    await own.stop();
    expect(await limiter.acquire(Date.now() + 1000)).toMatchObject({ granted: false, reason: 'store' });
    await expect(limiter.onThrottled({ granted: true, generation: 0 } satisfies Granted)).resolves.toBeUndefined();
    client.disconnect();
  });
});
