/**
 * Several instances on one seller's quota, through the local stack: with the Redis store every instance paces
 * on the same schedule, so the upstream never sees more than the quota plus the burst in any second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { emulatorStats, invoke, ledger, postJson, reset, rid, startStack, type Stack } from '../helpers/stack.js';

let redis: RedisServer;
let stack: Stack;
const QPS = 20;
const BURST = 5;
beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({
    IDEMPOTENCY_STORE: redis.url,
    LOCAL_MAX_INSTANCES: '4',
    EMULATOR_QPS: String(QPS),
    UPSTREAM_QPS: String(QPS),
    UPSTREAM_BURST: String(BURST),
    // 4 senders × 8 chunks in flight: a long line of bulk callers when the quota is saturated.
    CHUNK_CONCURRENCY: '8',
  });
});
afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
});

const request = (requestId: string, uids: string[]) => ({
  SellerId: '3944837183',
  TemplateId: '295873',
  RequestId: requestId,
  FromApp: 'quota-test',
  userAmountModelList: uids.map((uid) => ({ uid, amount: 1 })),
});

describe('one quota for every instance', () => {
  it('4 concurrent senders, 2,000 recipients, EMULATOR_QPS=20: within quota + burst in every second, each recipient issued once', async () => {
    const uids = Array.from({ length: 2000 }, (_, i) => String(1918000000000 + i));
    const answers = await Promise.all(
      [0, 1, 2, 3].map((k) =>
        postJson(`${stack.gateway}/coupons`, request(rid(`inst${k}`), uids.slice(k * 500, (k + 1) * 500))),
      ),
    );
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.json.Success).toBe(true);
    }
    const issued = await ledger(stack);
    expect(issued).toHaveLength(2000);
    expect(new Set(issued.map((c) => c.uid)).size).toBe(2000);
    const stats = await emulatorStats(stack);
    expect(stats['accepted']).toBe(40);
    expect(stats['maxCallsInAnySecond']).toBeLessThanOrEqual(QPS + BURST);
    expect(stats['throttled']).toBe(0);
  });

  it('an HTTP send of one recipient goes ahead of timer sends holding the quota, and waits little', async () => {
    await reset(stack);
    const timerSends = [0, 1, 2, 3].map((k) => {
      const { RequestId: _r, ...data } = request(
        'unused',
        Array.from({ length: 600 }, (_, i) => String(1918100000000 + k * 1000 + i)),
      );
      return invoke(stack, 'coupon-timer', {
        triggerTime: '2026-12-24T00:00:00Z',
        triggerName: rid(`bulk${k}`),
        payload: JSON.stringify(data),
      });
    });
    await new Promise((r) => setTimeout(r, 400));
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const a = await postJson(`${stack.gateway}/coupons`, request(rid('click'), [String(1918200000000 + i)]));
      latencies.push(performance.now() - started);
      expect(a.json.Success).toBe(true);
      await new Promise((r) => setTimeout(r, 150));
    }
    const bulk = await Promise.all(timerSends);
    expect(bulk.every((a) => a.json.Success === true)).toBe(true);
    // The bulk line is 4 sends × 8 chunks deep (about 1.3 s at 20/s beyond the horizon); an interactive call
    // waits at most the bulk horizon (250 ms) and a cell or two, plus its own call.
    expect(Math.max(...latencies)).toBeLessThan(550);
    expect((await emulatorStats(stack))['maxCallsInAnySecond']).toBeLessThanOrEqual(QPS + BURST);
  });
});
