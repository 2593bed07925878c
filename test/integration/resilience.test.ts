import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudEvent, timerEvent } from '../fixtures/requests.js';
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
import { startRedis } from '../helpers/redis.js';

const request = (requestId: string, uids: Array<number | string>, amount = 1) => ({
  SellerId: 3944837183,
  TemplateId: 295873,
  FromApp: 'resilience',
  RequestId: requestId,
  userAmountModelList: uids.map((uid) => ({ uid, amount })),
});

interface UpstreamLine {
  msg: string;
  attempt: number;
  Code: string;
  time: string;
  retryInMs?: number;
  RequestId: string;
  upstreamRequestId: string;
  latencyMs: number;
}
const upstreamLines = (stack: Stack, id: string): UpstreamLine[] =>
  stack.logs
    .filter((l) => l.includes('"msg":"upstream SendCoupon"'))
    .map((l) => JSON.parse(l) as UpstreamLine)
    .filter((l) => l.RequestId === id);

describe('upstream faults', () => {
  let stack: Stack;
  beforeAll(async () => {
    // UPSTREAM_QPS=20: after a throttle the shared schedule waits at least 1/14 s (the cut rate) before the retry.
    stack = await startStack({ UPSTREAM_TIMEOUT_MS: '400', UPSTREAM_QPS: '20' });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('throttled 3 times: retried with backoff, then one coupon per recipient', async () => {
    await reset(stack);
    await fault(stack, { mode: 'throttle', count: 3 });
    const id = rid('thr');
    const a = await postJson(`${stack.gateway}/coupons`, request(id, [1, 2]));
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ Success: true });
    expect((await ledger(stack)).map((c) => c.uid)).toEqual(['1', '2']);
    const lines = upstreamLines(stack, id);
    expect(lines.map((l) => [l.attempt, l.Code])).toEqual([
      [1, 'Throttling.User'],
      [2, 'Throttling.User'],
      [3, 'Throttling.User'],
      [4, 'success'],
    ]);
    const times = lines.map((l) => Date.parse(l.time));
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(40);
  });

  for (const [mode, status, code] of [
    ['error', 503, 'ServiceUnavailable'],
    ['error', 500, 'InternalError'],
  ] as const) {
    it(`${code} (${status}) is not retried: recipients UNKNOWN, nothing duplicated on redelivery`, async () => {
      await reset(stack);
      await fault(stack, { mode, status, code, count: 1 });
      const id = rid('err');
      const a = await postJson(`${stack.gateway}/coupons`, request(id, [1, 2]));
      expect(a.status).toBe(200);
      expect(a.json).toMatchObject({
        Success: false,
        Code: 'UnknownOutcome',
        userAmountModelList: [
          { status: 'UNKNOWN', Code: code },
          { status: 'UNKNOWN', Code: code },
        ],
      });
      const again = await postJson(`${stack.gateway}/coupons`, request(id, [1, 2]));
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect((await emulatorStats(stack))['sendCoupon']).toBe(1);
    });
  }

  for (const mode of ['timeout-before', 'timeout-after'] as const) {
    it(`${mode}: recipients UNKNOWN, answered within the upstream timeout`, async () => {
      await reset(stack);
      await fault(stack, { mode, count: 1, delayMs: 5000 });
      const id = rid('to');
      const started = Date.now();
      const a = await postJson(`${stack.gateway}/coupons`, request(id, [1]));
      expect(Date.now() - started).toBeLessThan(1500);
      expect(a.json).toMatchObject({
        Code: 'UnknownOutcome',
        userAmountModelList: [{ status: 'UNKNOWN', Code: 'Upstream.Timeout' }],
      });
      expect((await ledger(stack)).length).toBe(mode === 'timeout-after' ? 1 : 0);
      await postJson(`${stack.gateway}/coupons`, request(id, [1]));
      expect((await emulatorStats(stack))['sendCoupon']).toBe(1);
    });
  }

  it('business-error: 422 with the upstream Code over HTTP; answered, not thrown, by the event function', async () => {
    await reset(stack);
    await fault(stack, { mode: 'business-error', count: 2, code: 'COUPON_BUDGET_EXHAUSTED' });
    const a = await postJson(`${stack.gateway}/coupons`, request(rid('biz'), [1]));
    expect(a.status).toBe(422);
    expect(a.json).toMatchObject({ Success: false, Code: 'COUPON_BUDGET_EXHAUSTED' });
    const e = await invoke(stack, 'coupon-event', cloudEvent(rid('biz'), request('x', [2])));
    expect(e.headers.get('x-fc-error-type')).toBeNull();
    expect(e.json).toMatchObject({ Success: false, Code: 'COUPON_BUDGET_EXHAUSTED' });
    expect(await ledger(stack)).toEqual([]);
  });

  it('business-error as an HTTP 400 Alibaba error keeps the upstream Code too', async () => {
    await reset(stack);
    await fault(stack, { mode: 'business-error', count: 1, status: 400, code: 'InvalidTemplate.NotFound' });
    const a = await postJson(`${stack.gateway}/coupons`, request(rid('biz400'), [1]));
    expect(a.status).toBe(422);
    expect(a.json).toMatchObject({ Code: 'InvalidTemplate.NotFound' });
  });

  it('a refused call (signature) is 502 with the upstream Code, and stays owed: a redelivery sends it once', async () => {
    const shared = await startRedis();
    const wrongKey = await startStack({
      EMULATOR_ACCESS_KEY_SECRET: 'the-real-secret',
      RESELLERTRADE_ENDPOINT: stack.emulator,
      IDEMPOTENCY_STORE: shared.url,
    });
    const fixed = await startStack({ RESELLERTRADE_ENDPOINT: stack.emulator, IDEMPOTENCY_STORE: shared.url });
    try {
      await reset(stack);
      const id = rid('sig');
      const a = await postJson(`${wrongKey.gateway}/coupons`, request(id, [1]));
      expect(a.status).toBe(502);
      expect(a.json).toMatchObject({ Success: false, Code: 'SignatureDoesNotMatch' });
      const again = await postJson(`${fixed.gateway}/coupons`, request(id, [1]));
      expect(again.headers.get('idempotent-replayed')).toBeNull();
      expect(again.json).toMatchObject({ Success: true, userAmountModelList: [{ status: 'SENT' }] });
      expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(1);
    } finally {
      await Promise.all([wrongKey.stop(), fixed.stop()]);
      await shared.stop();
    }
  });
});

describe('large sends', () => {
  it('5,000 recipients against EMULATOR_QPS=20: all SENT, each exactly once, few throttled calls', async () => {
    // The seller's quota is configured: the schedule paces at it from the first call (no throttle to learn it).
    const stack = await startStack({ EMULATOR_QPS: '20', UPSTREAM_QPS: '20' });
    try {
      const uids = Array.from({ length: 5000 }, (_, i) => String(1918000000000 + i));
      const a = await invoke(
        stack,
        'coupon-timer',
        timerEvent({ ...request('campaign', uids, 2), RequestId: undefined }, '2026-12-24T00:00:00Z', 'xmas'),
      );
      expect(a.headers.get('x-fc-error-type')).toBeNull();
      expect(a.json.Success).toBe(true);
      expect(a.json.userAmountModelList.every((r: { status: string }) => r.status === 'SENT')).toBe(true);
      const issued = await ledger(stack);
      expect(issued).toHaveLength(5000);
      expect(new Set(issued.map((c) => c.uid)).size).toBe(5000);
      const stats = await emulatorStats(stack);
      expect(stats['accepted']).toBe(100);
      expect((stats['throttled'] ?? 0) / (stats['sendCoupon'] ?? 1)).toBeLessThan(0.05);
    } finally {
      await stack.stop();
    }
  });
});

describe('function deadline', () => {
  it('a timeout shorter than the work: the answer lists what was not attempted, and redeliveries finish it without duplicates', async () => {
    const stack = await startStack({
      FUNCTION_TIMEOUT_SECONDS: '2',
      EMULATOR_LATENCY_MS: '300',
      CHUNK_SIZE: '1',
      CHUNK_CONCURRENCY: '1',
      UPSTREAM_TIMEOUT_MS: '1000',
    });
    try {
      const id = rid('deadline');
      const uids = [1, 2, 3, 4, 5, 6, 7, 8];
      const first = await postJson(`${stack.gateway}/coupons`, request(id, uids));
      expect(first.status).toBe(200);
      expect(first.json.Code).toBe('PartialFailure');
      const notAttempted = first.json.userAmountModelList.filter(
        (r: { status: string; Code?: string; retryable?: boolean }) =>
          r.status === 'FAILED' && r.retryable && r.Code === 'NotAttempted',
      );
      expect(notAttempted.length).toBeGreaterThan(0);
      let answer = first;
      for (let i = 0; i < 10 && answer.json.Success !== true; i++)
        answer = await postJson(`${stack.gateway}/coupons`, request(id, uids));
      expect(answer.json.Success).toBe(true);
      const issued = (await ledger(stack)).filter((c) => c.requestId.startsWith(id));
      expect(issued.map((c) => c.uid).sort()).toEqual(uids.map(String).sort());
    } finally {
      await stack.stop();
    }
  });

  it('an async event that runs out of time throws, and FC-style retries finish it without duplicates', async () => {
    const stack = await startStack({
      FUNCTION_TIMEOUT_SECONDS: '2',
      EMULATOR_LATENCY_MS: '300',
      CHUNK_SIZE: '1',
      CHUNK_CONCURRENCY: '1',
      UPSTREAM_TIMEOUT_MS: '1000',
      ASYNC_RETRY_DELAY_MS: '50',
    });
    try {
      const id = rid('async');
      const { RequestId: _own, ...data } = request('unused', [1, 2, 3, 4, 5, 6]);
      const accepted = await invoke(stack, 'coupon-event', cloudEvent(id, data), 'Async');
      expect(accepted.status).toBe(202);
      const fcId = accepted.headers.get('x-fc-request-id');
      let record = (await call(`${stack.gateway}/__gateway/invocations/${fcId}`)).json;
      for (let i = 0; i < 100 && record.status === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        record = (await call(`${stack.gateway}/__gateway/invocations/${fcId}`)).json;
      }
      expect(record.status).toBe('succeeded');
      expect(record.attempts).toBeGreaterThan(1);
      const issued = (await ledger(stack)).filter((c) => c.requestId.includes(id));
      expect(issued.map((c) => c.uid).sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    } finally {
      await stack.stop();
    }
  });
});

describe('refusals that prove nothing ran are retried', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  for (const code of ['SignatureNonceUsed', 'InvalidTimeStamp.Expired', 'InvalidSecurityToken.Expired']) {
    it(`${code}: retried with a fresh signature, then issued once`, async () => {
      await reset(stack);
      await fault(stack, { mode: 'throttle', code, count: 1 });
      const id = rid('gw');
      const a = await postJson(`${stack.gateway}/coupons`, request(id, [1]));
      expect(a.json).toMatchObject({ Success: true });
      expect(upstreamLines(stack, id).map((l) => [l.attempt, l.Code])).toEqual([
        [1, code],
        [2, 'success'],
      ]);
      expect(await ledger(stack)).toHaveLength(1);
    });
  }

  it('a connection refused on every attempt: 502, nothing issued, still owed: a redelivery sends it once', async () => {
    const shared = await startRedis();
    const down = await startStack({
      RESELLERTRADE_ENDPOINT: 'http://127.0.0.1:9',
      UPSTREAM_MAX_ATTEMPTS: '3',
      IDEMPOTENCY_STORE: shared.url,
    });
    const up = await startStack({ RESELLERTRADE_ENDPOINT: stack.emulator, IDEMPOTENCY_STORE: shared.url });
    try {
      await reset(stack);
      const id = rid('refused');
      const a = await postJson(`${down.gateway}/coupons`, request(id, [1]));
      expect(a.status).toBe(502);
      expect(a.json).toMatchObject({ Success: false, Code: 'Upstream.ECONNREFUSED' });
      const again = await postJson(`${up.gateway}/coupons`, request(id, [1]));
      expect(again.json).toMatchObject({ Success: true, userAmountModelList: [{ status: 'SENT' }] });
      expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(1);
    } finally {
      await Promise.all([down.stop(), up.stop()]);
      await shared.stop();
    }
  });

  it('DRY_RUN validates and logs the exact request without sending it', async () => {
    const dry = await startStack({ DRY_RUN: 'true' });
    try {
      const a = await postJson(`${dry.gateway}/coupons`, request(rid('dry'), [1918000000883]));
      expect(a.json).toMatchObject({ Success: true, Code: 'DryRun', userAmountModelList: [{ status: 'DRY_RUN' }] });
      expect(await ledger(dry)).toEqual([]);
      const line = dry.logs.find((l) => l.includes('dry run'));
      expect(line).toContain('UserAmountModelList.1.Uid=1918******883');
    } finally {
      await dry.stop();
    }
  });
});
