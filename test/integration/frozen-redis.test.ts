/**
 * FC freezes an instance between invocations while Redis closes idle connections (`timeout 1`): each next
 * invocation, thawed 2 s later on the same instance, must still answer, and nothing may be sent twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { instances, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

let redis: RedisServer;
let stack: Stack;
beforeAll(async () => {
  redis = await startRedis({ args: ['--timeout', '1'] });
  stack = await startStack({ IDEMPOTENCY_STORE: redis.url, LOCAL_MAX_INSTANCES: '1' });
});
afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
});

describe('frozen instances and a Redis that closes idle connections after 1 s', () => {
  it('answers every invocation 2 s apart on the same frozen instance, each coupon issued once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 2_000));
      const id = rid('frozen');
      ids.push(id);
      const answer = await postJson(`${stack.gateway}/coupons`, {
        SellerId: '3944837183',
        TemplateId: '295873',
        FromApp: 'frozen',
        RequestId: id,
        userAmountModelList: [{ uid: String(1918000001000 + i), amount: 1 }],
      });
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ Success: true });
    }
    const http = await instances(stack, 'coupon-http');
    expect(http).toHaveLength(1);
    expect(http[0]?.invocations).toBeGreaterThanOrEqual(3);
    const issued = await ledger(stack);
    for (const id of ids) expect(issued.filter((c) => c.requestId === id)).toHaveLength(1);
  });
});
