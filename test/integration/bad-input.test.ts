import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let configured: Stack;
beforeAll(async () => {
  [stack, configured] = await Promise.all([
    startStack({ MAX_RECIPIENTS: '3', MAX_COUPON_AMOUNT: '500' }),
    startStack({ SELLER_ID: '3944837183', FROM_APP: 'configured-app' }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack.stop(), configured.stop()]);
});

const valid = () => ({
  SellerId: 3944837183,
  TemplateId: 295873,
  RequestId: rid(),
  FromApp: 'test-app',
  userAmountModelList: [{ uid: 1918000000883, amount: 100 }],
});
const withRecipient = (r: Record<string, unknown>) => ({ ...valid(), userAmountModelList: [r] });

type Case = [name: string, body: unknown, path: string];
const cases: Case[] = [
  ['SellerId missing (no SELLER_ID configured)', (({ SellerId: _s, ...rest }) => rest)(valid()), '/SellerId'],
  ['SellerId zero', { ...valid(), SellerId: 0 }, '/SellerId'],
  ['SellerId negative', { ...valid(), SellerId: -5 }, '/SellerId'],
  ['SellerId fractional', { ...valid(), SellerId: 1.5 }, '/SellerId'],
  [
    'SellerId above 2^53-1 as a number',
    '{"SellerId": 9007199254740993, "TemplateId": 295873, "RequestId": "r-big", "FromApp": "a", "userAmountModelList": [{"uid": 1, "amount": 1}]}',
    '/SellerId',
  ],
  ['TemplateId missing', (({ TemplateId: _t, ...rest }) => rest)(valid()), '/TemplateId'],
  ['TemplateId with letters', { ...valid(), TemplateId: '29587x' }, '/TemplateId'],
  ['TemplateId 21 digits', { ...valid(), TemplateId: '123456789012345678901' }, '/TemplateId'],
  ['Bid as a boolean', { ...valid(), Bid: true }, '/Bid'],
  [
    'uid above 2^53-1 as a number',
    '{"SellerId": 1, "TemplateId": 2, "RequestId": "r-uid", "FromApp": "a", "userAmountModelList": [{"uid": 19180000008831234, "amount": 1}]}',
    '/userAmountModelList/0/uid',
  ],
  ['uid as an object', withRecipient({ uid: { id: 1 }, amount: 1 }), '/userAmountModelList/0/uid'],
  ['uid missing', withRecipient({ amount: 1 }), '/userAmountModelList/0/uid'],
  ['amount zero', withRecipient({ uid: 1, amount: 0 }), '/userAmountModelList/0/amount'],
  ['amount negative', withRecipient({ uid: 1, amount: -1 }), '/userAmountModelList/0/amount'],
  ['amount as a string', withRecipient({ uid: 1, amount: '100' }), '/userAmountModelList/0/amount'],
  ['amount with 3 decimals', withRecipient({ uid: 1, amount: 1.005 }), '/userAmountModelList/0/amount'],
  ['amount above MAX_COUPON_AMOUNT', withRecipient({ uid: 1, amount: 500.01 }), '/userAmountModelList/0/amount'],
  ['amount misspelt (ammount)', withRecipient({ uid: 1, ammount: 1 }), '/userAmountModelList/0/ammount'],
  ['recipient list empty', { ...valid(), userAmountModelList: [] }, '/userAmountModelList'],
  [
    'recipient list above MAX_RECIPIENTS',
    { ...valid(), userAmountModelList: [1, 2, 3, 4].map((uid) => ({ uid, amount: 1 })) },
    '/userAmountModelList',
  ],
  [
    'same uid twice (number and string)',
    {
      ...valid(),
      userAmountModelList: [
        { uid: 1918000000883, amount: 1 },
        { uid: '1918000000883', amount: 2 },
      ],
    },
    '/userAmountModelList/1/uid',
  ],
  ['RequestId missing over HTTP', (({ RequestId: _r, ...rest }) => rest)(valid()), '/RequestId'],
  ['RequestId with a space', { ...valid(), RequestId: 'has space' }, '/RequestId'],
  ['RequestId of 65 characters', { ...valid(), RequestId: 'r'.repeat(65) }, '/RequestId'],
  ['FromApp missing (no FROM_APP configured)', (({ FromApp: _f, ...rest }) => rest)(valid()), '/FromApp'],
  ['FromApp of 65 characters', { ...valid(), FromApp: 'a'.repeat(65) }, '/FromApp'],
  ['unknown top-level property', { ...valid(), Amount: 5 }, '/Amount'],
  [
    'unknown property in an envelope param',
    {
      fromApp: 'a',
      requestId: rid(),
      param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 1, amount: 1 }], extra: 1 },
    },
    '/param/extra',
  ],
  [
    'a batch whose every element is invalid',
    [
      {
        fromApp: 'a',
        requestId: rid(),
        param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 1, amount: 0 }] },
      },
      {
        fromApp: 'a',
        requestId: rid(),
        param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 1, amount: -1 }] },
      },
    ],
    '/1/param/userAmountModelList/0/amount',
  ],
  ['an empty batch', [], ''],
  ['a body that is not JSON', '{"SellerId": 1,', ''],
  ['a JSON value that is not a request', '"hello"', ''],
];

describe('bad input gets 400 naming the field, and nothing is sent', () => {
  for (const [name, body, path] of cases) {
    it(name, async () => {
      const before = (await ledger(stack)).length;
      const a = await postJson(`${stack.gateway}/coupons`, body);
      expect(a.status).toBe(400);
      const answers: Array<{ Success: boolean; Code: string; errors: Array<{ path: string; message: string }> }> =
        Array.isArray(a.json) ? a.json : [a.json];
      for (const answer of answers)
        expect(answer).toMatchObject({ Success: false, Code: expect.stringMatching(/^Invalid/) });
      const errors = answers.flatMap((answer) => answer.errors);
      expect(errors.map((e) => e.path)).toContain(path);
      for (const e of errors) expect(e.message).toEqual(expect.any(String));
      expect(a.text).not.toMatch(/at .*\.(ts|js|mjs):\d+/);
      expect((await ledger(stack)).length).toBe(before);
    });
  }

  it('lists every problem, not only the first', async () => {
    const a = await postJson(`${stack.gateway}/coupons`, {
      SellerId: -1,
      TemplateId: 'x',
      RequestId: 'bad id',
      FromApp: 'a',
      userAmountModelList: [
        { uid: 1, amount: 0 },
        { uid: 2, amount: '3' },
      ],
    });
    expect(a.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      '/RequestId',
      '/SellerId',
      '/TemplateId',
      '/userAmountModelList/0/amount',
      '/userAmountModelList/1/amount',
    ]);
  });
});

describe('configured SELLER_ID and FROM_APP', () => {
  it('fills an omitted SellerId and FromApp', async () => {
    const a = await postJson(`${configured.gateway}/coupons`, {
      TemplateId: 295873,
      RequestId: rid(),
      userAmountModelList: [{ uid: 7, amount: 1 }],
    });
    expect(a.status).toBe(200);
    expect((await ledger(configured)).at(-1)).toMatchObject({
      sellerId: '3944837183',
      fromApp: 'configured-app',
      uid: '7',
    });
  });

  it('refuses another seller with 403 and sends nothing', async () => {
    const before = (await ledger(configured)).length;
    const a = await postJson(`${configured.gateway}/coupons`, {
      SellerId: 1111,
      TemplateId: 295873,
      RequestId: rid(),
      userAmountModelList: [{ uid: 7, amount: 1 }],
    });
    expect(a.status).toBe(403);
    expect(a.json).toMatchObject({ Success: false, Code: 'Forbidden.SellerMismatch' });
    expect((await ledger(configured)).length).toBe(before);
  });
});

describe('HEAD and odd paths', () => {
  it('404s an unknown path without touching the upstream', async () => {
    expect((await call(`${stack.gateway}/coupons/extra`, { method: 'POST' })).status).toBe(404);
  });
});
