/**
 * Several instances on one seller's quota, through the local stack: with the Redis store every instance paces
 * on the same schedule, so the upstream never sees more than the quota plus the burst in any second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { emulatorStats, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

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
});
