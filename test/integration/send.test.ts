import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cloudEvent, docBatchRequestText, docFlatRequest, timerEvent } from '../fixtures/requests.js';
import { call, invoke, ledger, postJson, reset, rid, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ EMULATOR_FIRST_YOUHUI_ID: '9007199254740993' });
});
afterAll(async () => {
  await stack.stop();
});
beforeEach(async () => reset(stack));

const coupons = `/coupons`;

describe('HTTP function through the gateway', () => {
  it('issues the documented flat request and answers in its shape, ids exact', async () => {
    const a = await postJson(stack.gateway + coupons, docFlatRequest);
    expect(a.status).toBe(200);
    expect(a.text).toBe(
      '{"RequestId":"dsnjvui9svvsd-14indw","Success":true,"Code":"success","Message":"success","userAmountModelList":[{"amount":100,"uid":1918000000883,"youhuiId":9007199254740993,"status":"SENT"}]}',
    );
    expect(a.headers.get('x-fc-request-id')).toMatch(/^1-/);
    expect(await ledger(stack)).toMatchObject([
      {
        youhuiId: '9007199254740993',
        sellerId: '3944837183',
        templateId: '295873',
        uid: '1918000000883',
        amount: 100,
        requestId: 'dsnjvui9svvsd-14indw',
        fromApp: 'test-app',
      },
    ]);
  });

  it('keeps 16+ digit uids sent as strings exact, and answers them as strings', async () => {
    const requestId = rid();
    const a = await postJson(stack.gateway + coupons, {
      SellerId: '3944837183',
      TemplateId: '295873',
      RequestId: requestId,
      FromApp: 'test-app',
      userAmountModelList: [
        { uid: '9223372036854775807', amount: 0.5 },
        { uid: '9007199254740993', amount: 12.34 },
      ],
    });
    expect(a.status).toBe(200);
    expect(a.text).toContain('"uid":"9223372036854775807"');
    expect(a.text).toContain('"uid":"9007199254740993"');
    expect(a.json.userAmountModelList.map((r: { status: string }) => r.status)).toEqual(['SENT', 'SENT']);
    expect((await ledger(stack)).map((c) => [c.uid, c.amount])).toEqual([
      ['9223372036854775807', 0.5],
      ['9007199254740993', 12.34],
    ]);
  });

  it("issues the documentation's batch example and answers an array of envelopes", async () => {
    // Its own stack: the example reuses the flat example's RequestId with other content, which is a 422 here.
    const own = await startStack();
    const a = await call(own.gateway + coupons, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: docBatchRequestText,
    });
    expect(a.status).toBe(200);
    expect(a.json).toEqual([
      {
        fromApp: 'test-app',
        requestId: 'dsnjvui9svvsd-14indw',
        param: {
          userAmountModelList: [{ amount: 1000, uid: 1918000000883, youhuiId: expect.any(Number), status: 'SENT' }],
        },
        Success: true,
        Code: 'success',
        Message: 'success',
      },
    ]);
    expect(await ledger(own)).toMatchObject([
      {
        uid: '1918000000883',
        amount: 1000,
        sellerId: '3944837183',
        templateId: '295873',
        requestId: 'dsnjvui9svvsd-14indw',
      },
    ]);
    await own.stop();
  });

  it('answers health, unknown paths, wrong methods and content types', async () => {
    expect((await call(`${stack.gateway}/healthz`)).json).toEqual({ status: 'ok' });
    expect((await call(`${stack.gateway}/nope`)).status).toBe(404);
    expect((await call(stack.gateway + coupons)).status).toBe(405);
    const a = await call(stack.gateway + coupons, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(a.status).toBe(415);
    expect(a.json).toMatchObject({ Success: false, Code: 'UnsupportedMediaType' });
    const big = await postJson(stack.gateway + coupons, { pad: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect(await ledger(stack)).toEqual([]);
  });
});

describe('event function through the gateway', () => {
  it('issues a single CloudEvent and derives the RequestId from source and id', async () => {
    const id = rid('evt');
    const a = await invoke(
      stack,
      'coupon-event',
      cloudEvent(id, {
        SellerId: 3944837183,
        TemplateId: 295873,
        FromApp: 'campaigns',
        userAmountModelList: [{ uid: 1918000000883, amount: 5 }],
      }),
    );
    expect(a.status).toBe(200);
    expect(a.headers.get('x-fc-error-type')).toBeNull();
    expect(a.json).toMatchObject({ RequestId: `acs.coupon.campaign:${id}`, Success: true });
    expect(await ledger(stack)).toMatchObject([
      { uid: '1918000000883', amount: 5, requestId: `acs.coupon.campaign:${id}` },
    ]);
  });

  it('issues an array of CloudEvents whose data is a JSON string', async () => {
    const events = [1, 2, 3].map((n) =>
      cloudEvent(
        rid('evt'),
        JSON.stringify({
          fromApp: 'campaigns',
          param: {
            sellerId: '3944837183',
            templateId: 295873,
            userAmountModelList: [{ uid: `191800000088${n}`, amount: n }],
          },
        }),
      ),
    );
    const a = await invoke(stack, 'coupon-event', events);
    expect(a.status).toBe(200);
    expect(a.json).toHaveLength(3);
    expect((await ledger(stack)).map((c) => [c.uid, c.amount]).sort()).toEqual([
      ['1918000000881', 1],
      ['1918000000882', 2],
      ['1918000000883', 3],
    ]);
  });

  it('accepts RawData delivery of a request that carries its own RequestId', async () => {
    const a = await invoke(stack, 'coupon-event', { ...docFlatRequest, RequestId: rid('raw') });
    expect(a.json).toMatchObject({ Success: true });
    expect(await ledger(stack)).toHaveLength(1);
  });

  it('answers (does not throw) an invalid event, and issues nothing', async () => {
    const a = await invoke(
      stack,
      'coupon-event',
      cloudEvent(rid('evt'), { TemplateId: 295873, userAmountModelList: [{ uid: 1, amount: '100' }] }),
    );
    expect(a.headers.get('x-fc-error-type')).toBeNull();
    expect(a.json).toMatchObject({ Success: false, Code: 'InvalidParameter' });
    expect(a.json.errors).toContainEqual({
      path: '/userAmountModelList/0/amount',
      message: expect.stringContaining('number'),
    });
    expect(await ledger(stack)).toEqual([]);
  });
});

describe('timer function through the gateway', () => {
  it('issues the payload and makes each firing its own operation', async () => {
    const payload = {
      SellerId: 3944837183,
      TemplateId: 295873,
      FromApp: 'nightly',
      userAmountModelList: [{ uid: 1918000000883, amount: 8.88 }],
    };
    const first = await invoke(stack, 'coupon-timer', timerEvent(payload, '2026-11-29T16:00:00Z'));
    expect(first.json).toMatchObject({ RequestId: 'nightly-campaign:2026-11-29T16:00:00Z', Success: true });
    const second = await invoke(stack, 'coupon-timer', timerEvent(payload, '2026-11-30T16:00:00Z'));
    expect(second.json).toMatchObject({ RequestId: 'nightly-campaign:2026-11-30T16:00:00Z', Success: true });
    expect((await ledger(stack)).map((c) => [c.uid, c.amount, c.requestId])).toEqual([
      ['1918000000883', 8.88, 'nightly-campaign:2026-11-29T16:00:00Z'],
      ['1918000000883', 8.88, 'nightly-campaign:2026-11-30T16:00:00Z'],
    ]);
  });
});

describe('logs', () => {
  it('are JSON lines with the ids, and never carry the secret or a full uid', async () => {
    await postJson(stack.gateway + coupons, { ...docFlatRequest, RequestId: rid('log') });
    const lines = stack.logs.filter((l) => l.startsWith('{') && !l.includes('"msg":"ready"'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    const joined = lines.join('\n');
    expect(joined).not.toContain('local-emulator-secret');
    expect(joined).not.toContain('1918000000883');
    const upstream = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'upstream SendCoupon');
    expect(upstream).toMatchObject({
      level: 'info',
      trigger: 'http',
      Code: 'success',
      attempt: 1,
      requestId: expect.stringMatching(/^1-/),
      RequestId: expect.any(String),
      upstreamRequestId: expect.any(String),
      latencyMs: expect.any(Number),
    });
  });
});
