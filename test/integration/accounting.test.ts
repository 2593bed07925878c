/**
 * Every coupon accounted for, end to end through the local stack: coupon ids kept as the upstream wrote them
 * through a first delivery and its replay, an answer that names nobody confirms nobody, a huge Retry-After does
 * not freeze the next operation, and a delivery killed mid-call is reported UNKNOWN and never sent again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { fault, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

const request = (requestId: string, uids: Array<number | string>, amount = 1) => ({
  SellerId: 3944837183,
  TemplateId: 295873,
  FromApp: 'accounting',
  RequestId: requestId,
  userAmountModelList: uids.map((uid) => ({ uid, amount })),
});

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ UPSTREAM_MAX_ATTEMPTS: '1' });
});
afterAll(async () => {
  await stack.stop();
});

describe('coupon ids are opaque', () => {
  it.each([
    ['a string', '"YH-18338"', '"youhuiId":"YH-18338"'],
    ['digits with leading zeros', '"0018338"', '"youhuiId":"0018338"'],
    ['a number beyond 2^53', '9007199254740993', '"youhuiId":9007199254740993'],
  ])('keeps one that is %s through the first answer and every replay', async (_name, written, answered) => {
    const id = rid('yh');
    const body = `{"RequestId":"${id}","Success":true,"Code":"success","Data":[{"Uid":1918000000883,"YouhuiId":${written}}]}`;
    await fault(stack, { mode: 'respond', body });
    const first = await postJson(`${stack.gateway}/coupons`, request(id, [1918000000883]));
    expect(first.status).toBe(200);
    expect(first.text).toContain(answered);
    const replay = await postJson(`${stack.gateway}/coupons`, request(id, [1918000000883]));
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toContain(answered);
  });
});

describe('an answer that names nobody confirms nobody', () => {
  it.each(['{}', '{"Data": null}', '{"Success": true, "Data": []}'])(
    'HTTP 200 with %s: every recipient UNKNOWN, never re-sent',
    async (body) => {
      const id = rid('shapeless');
      await fault(stack, { mode: 'respond', body });
      const a = await postJson(`${stack.gateway}/coupons`, request(id, [31, 32]));
      expect(a.status).toBe(200);
      expect(a.json).toMatchObject({
        Success: false,
        Code: 'UnknownOutcome',
        userAmountModelList: [
          { status: 'UNKNOWN', Code: 'NotConfirmed' },
          { status: 'UNKNOWN', Code: 'NotConfirmed' },
        ],
      });
      await postJson(`${stack.gateway}/coupons`, request(id, [31, 32]));
      expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(2);
    },
  );
});

describe('server wait hints', () => {
  it('a Retry-After of an hour holds an unrelated operation back a few seconds at most', async () => {
    await fault(stack, { mode: 'throttle', count: 1, headers: { 'Retry-After': '3600' } });
    const refused = await postJson(`${stack.gateway}/coupons`, request(rid('hint'), [41]));
    expect(refused.status).toBe(429);
    const started = Date.now();
    const next = await postJson(`${stack.gateway}/coupons`, request(rid('after-hint'), [42]));
    expect(next.json).toMatchObject({ Success: true, userAmountModelList: [{ status: 'SENT' }] });
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});

describe('a delivery killed while its call is in flight (Redis)', () => {
  let redis: RedisServer;
  let upstream: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startStack();
  });
  afterAll(async () => {
    await upstream.stop();
    await redis.stop();
  });

  it('is reported UNKNOWN by the redelivery and never sent again', async () => {
    const env = {
      IDEMPOTENCY_STORE: redis.url,
      RESELLERTRADE_ENDPOINT: upstream.emulator,
      UPSTREAM_TIMEOUT_MS: '1500',
    };
    // The upstream issues the coupon, then holds the answer: the call is in flight when the stack dies.
    await fault(upstream, { mode: 'timeout-after', count: 1, delayMs: 30_000 });
    const doomed = await startStack(env);
    const id = rid('inflight');
    const pending = postJson(`${doomed.gateway}/coupons`, request(id, [51])).catch(() => undefined);
    for (let i = 0; i < 100 && (await ledger(upstream)).filter((c) => c.requestId === id).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await doomed.kill();
    await pending;

    const next = await startStack(env);
    try {
      let answer = await postJson(`${next.gateway}/coupons`, request(id, [51]));
      for (let i = 0; i < 40 && answer.status === 409; i++) {
        await new Promise((r) => setTimeout(r, 250));
        answer = await postJson(`${next.gateway}/coupons`, request(id, [51]));
      }
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ userAmountModelList: [{ status: 'UNKNOWN', Code: 'InterruptedDelivery' }] });
      const replay = await postJson(`${next.gateway}/coupons`, request(id, [51]));
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect((await ledger(upstream)).filter((c) => c.requestId === id)).toHaveLength(1);
    } finally {
      await next.stop();
    }
  });
});
