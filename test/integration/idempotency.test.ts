import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudEvent, timerEvent } from '../fixtures/requests.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import {
  call,
  emulatorStats,
  fault,
  invoke,
  ledger,
  postJson,
  reset,
  rid,
  startStack,
  type Stack,
} from '../helpers/stack.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const request = (requestId: string, uids: number[] = [1918000000883], amount = 10) => ({
  SellerId: 3944837183,
  TemplateId: 295873,
  FromApp: 'idem-app',
  RequestId: requestId,
  userAmountModelList: uids.map((uid) => ({ uid, amount })),
});

const issuedFor = async (stack: Stack, requestPrefix: string) =>
  (await ledger(stack)).filter((c) => c.requestId.startsWith(requestPrefix));

describe.each(['memory', 'redis'] as const)('exactly once with the %s store', (store) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      IDEMPOTENCY_STORE: store === 'redis' ? redis.url : 'memory',
      EMULATOR_LATENCY_MS: '100',
    });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('50 concurrent identical deliveries: one upstream call per recipient, the rest replay or 409', async () => {
    await reset(stack);
    const id = rid('burst');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => postJson(`${stack.gateway}/coupons`, request(id, [1, 2, 3]))),
    );
    const stats = await emulatorStats(stack);
    expect(stats['sendCoupon']).toBe(1);
    expect((await issuedFor(stack, id)).map((c) => c.uid).sort()).toEqual(['1', '2', '3']);
    const fresh = answers.filter((a) => a.status === 200 && a.headers.get('idempotent-replayed') === null);
    const replays = answers.filter((a) => a.status === 200 && a.headers.get('idempotent-replayed') === 'true');
    const inProgress = answers.filter((a) => a.status === 409);
    expect(fresh).toHaveLength(1);
    expect(replays.length + inProgress.length).toBe(49);
    for (const a of inProgress) expect(a.json).toMatchObject({ Code: 'RequestInProgress', RequestId: id });
    for (const a of replays) expect(a.json).toEqual(fresh[0]?.json);
  });

  it('an HTTP request retried after its answer was lost is replayed, not re-sent', async () => {
    const id = rid('retry');
    const first = await postJson(`${stack.gateway}/coupons`, request(id));
    const again = await postJson(`${stack.gateway}/coupons`, request(id));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(await issuedFor(stack, id)).toHaveLength(1);
  });

  it('an EventBridge event delivered twice, and again inside an array batch, issues once', async () => {
    const id = rid('evt');
    const event = cloudEvent(
      id,
      request('ignored').userAmountModelList && {
        SellerId: 3944837183,
        TemplateId: 295873,
        FromApp: 'idem-app',
        userAmountModelList: [{ uid: 77, amount: 1 }],
      },
    );
    await invoke(stack, 'coupon-event', event);
    await invoke(stack, 'coupon-event', event);
    const other = cloudEvent(rid('evt'), {
      SellerId: 3944837183,
      TemplateId: 295873,
      FromApp: 'idem-app',
      userAmountModelList: [{ uid: 78, amount: 1 }],
    });
    const batch = await invoke(stack, 'coupon-event', [event, other]);
    expect(batch.json).toHaveLength(2);
    const issued = (await ledger(stack)).filter((c) => c.requestId.endsWith(id) || c.requestId.endsWith(other.id));
    expect(issued.map((c) => c.uid).sort()).toEqual(['77', '78']);
  });

  it('a timer firing delivered twice issues once', async () => {
    const name = rid('timer');
    const firing = timerEvent(
      { SellerId: 3944837183, TemplateId: 295873, FromApp: 'idem-app', userAmountModelList: [{ uid: 88, amount: 1 }] },
      '2026-12-01T00:00:00Z',
      name,
    );
    await invoke(stack, 'coupon-timer', firing);
    const second = await invoke(stack, 'coupon-timer', firing);
    expect(second.json).toMatchObject({ Success: true });
    expect(await issuedFor(stack, name)).toHaveLength(1);
  });

  it('the same operation through two triggers (HTTP, then RawData event) issues once', async () => {
    const id = rid('cross');
    await postJson(`${stack.gateway}/coupons`, request(id));
    const viaEvent = await invoke(stack, 'coupon-event', request(id));
    expect(viaEvent.json).toMatchObject({ Success: true, RequestId: id });
    expect(await issuedFor(stack, id)).toHaveLength(1);
  });

  it('the same RequestId with a changed amount is 422 IdempotencyKeyReused, and nothing is sent', async () => {
    const id = rid('reuse');
    await postJson(`${stack.gateway}/coupons`, request(id, [5], 10));
    const before = (await emulatorStats(stack))['sendCoupon'];
    const changed = await postJson(`${stack.gateway}/coupons`, request(id, [5], 11));
    expect(changed.status).toBe(422);
    expect(changed.json).toMatchObject({ Success: false, Code: 'IdempotencyKeyReused', RequestId: id });
    expect((await emulatorStats(stack))['sendCoupon']).toBe(before);
    expect(await issuedFor(stack, id)).toHaveLength(1);
  });

  it('timeout-after: the recipients end UNKNOWN and a redelivery issues nothing more', async () => {
    const own = await startStack({
      IDEMPOTENCY_STORE: store === 'redis' ? redis.url : 'memory',
      UPSTREAM_TIMEOUT_MS: '300',
    });
    try {
      await fault(own, { mode: 'timeout-after', count: 1, delayMs: 2000 });
      const id = rid('tafter');
      const started = Date.now();
      const first = await postJson(`${own.gateway}/coupons`, request(id, [1, 2]));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(first.status).toBe(200);
      expect(first.json).toMatchObject({
        Success: false,
        Code: 'UnknownOutcome',
        userAmountModelList: [
          { uid: 1, status: 'UNKNOWN', Code: 'Upstream.Timeout' },
          { uid: 2, status: 'UNKNOWN' },
        ],
      });
      const again = await postJson(`${own.gateway}/coupons`, request(id, [1, 2]));
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.json).toMatchObject({ Code: 'UnknownOutcome' });
      expect((await emulatorStats(own))['sendCoupon']).toBe(1);
      expect(await issuedFor(own, id)).toHaveLength(2);
      const errorLine = own.logs.find((l) => l.includes('chunk outcome UNKNOWN'));
      expect(errorLine).toBeDefined();
      expect(JSON.parse(errorLine ?? '{}')).toMatchObject({
        level: 'error',
        RequestId: id,
        upstreamRequestId: id,
        SellerId: '3944837183',
        TemplateId: '295873',
        uids: ['*', '*'],
      });
    } finally {
      await own.stop();
    }
  });

  it('refuses an IDEMPOTENCY_TTL_SECONDS shorter than the longest function timeout, naming it', async () => {
    const own = await startStack({
      IDEMPOTENCY_STORE: store === 'redis' ? redis.url : 'memory',
      IDEMPOTENCY_TTL_SECONDS: '1',
    });
    try {
      const a = await postJson(`${own.gateway}/coupons`, request(rid('ttl')));
      expect(a.status).toBe(500);
      expect(a.json).toMatchObject({
        Code: 'InvalidConfiguration',
        Message: expect.stringContaining('IDEMPOTENCY_TTL_SECONDS'),
      });
      expect(await issuedFor(own, 'ttl')).toHaveLength(0);
    } finally {
      await own.stop();
    }
  });
});

describe('crash safety (Redis, the deployed configuration)', () => {
  let upstream: Stack;
  beforeAll(async () => {
    upstream = await startStack();
  });
  afterAll(async () => {
    await upstream.stop();
  });

  it('a process killed after chunk 1 of 3: the next delivery sends chunks 2 and 3 only', async () => {
    const env = {
      IDEMPOTENCY_STORE: redis.url,
      RESELLERTRADE_ENDPOINT: upstream.emulator,
      CHUNK_SIZE: '2',
      CHUNK_CONCURRENCY: '1',
      UPSTREAM_QPS: '1',
      UPSTREAM_BURST: '1',
      FUNCTION_TIMEOUT_SECONDS: '5',
      UPSTREAM_TIMEOUT_MS: '1500',
    };
    // At one call per second, the chunks go out about a second apart.
    const crashing = await startStack(env);
    const id = rid('crash');
    const body = request(id, [1, 2, 3, 4, 5, 6]);
    const pending = postJson(`${crashing.gateway}/coupons`, body).catch(() => undefined);
    for (let i = 0; i < 100 && (await issuedFor(upstream, id)).length < 2; i++)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    await crashing.kill();
    await pending;
    expect((await issuedFor(upstream, id)).map((c) => c.requestId)).toEqual([`${id}-1`, `${id}-1`]);

    // The dead delivery's lease reaches only as far as its last write announced: the redelivery soon takes over.
    const next = await startStack({ ...env, UPSTREAM_QPS: '50', UPSTREAM_BURST: '10' });
    try {
      let answer = await postJson(`${next.gateway}/coupons`, body);
      for (let i = 0; i < 30 && answer.status === 409; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        answer = await postJson(`${next.gateway}/coupons`, body);
      }
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ Success: true });
      const issued = await issuedFor(upstream, id);
      expect(issued.map((c) => [c.uid, c.requestId])).toEqual([
        ['1', `${id}-1`],
        ['2', `${id}-1`],
        ['3', `${id}-2`],
        ['4', `${id}-2`],
        ['5', `${id}-3`],
        ['6', `${id}-3`],
      ]);
    } finally {
      await next.stop();
    }
  });
});

describe('store failures fail closed', () => {
  it('Redis down: HTTP answers 503, the event function throws, and no coupon is issued', async () => {
    const own = await startRedis();
    const stack = await startStack({ IDEMPOTENCY_STORE: own.url });
    try {
      const ok = await postJson(`${stack.gateway}/coupons`, request(rid('up')));
      expect(ok.status).toBe(200);
      await own.stop();
      const before = (await ledger(stack)).length;
      const down = await postJson(`${stack.gateway}/coupons`, request(rid('down')));
      expect(down.status).toBe(503);
      expect(down.json).toMatchObject({ Success: false, Code: 'IdempotencyStoreUnavailable' });
      expect(down.headers.get('retry-after')).toBeTruthy();
      const event = await invoke(stack, 'coupon-event', cloudEvent(rid('down'), request('x')));
      expect(event.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
      expect((await ledger(stack)).length).toBe(before);
      await own.start();
      let back = await postJson(`${stack.gateway}/coupons`, request(rid('back')));
      for (let i = 0; i < 20 && back.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 250));
        back = await postJson(`${stack.gateway}/coupons`, request(rid('back')));
      }
      expect(back.status).toBe(200);
    } finally {
      await stack.stop();
      await own.stop();
    }
  });
});

describe('the local stack', () => {
  it('stops cleanly with exit 0 on SIGINT', async () => {
    const stack = await startStack();
    expect((await call(`${stack.gateway}/healthz`)).status).toBe(200);
    expect(await stack.stop('SIGINT')).toBe(0);
  });
});
