/**
 * One poison request must be answered, never thrown: through the real stack (gateway, functions, emulator), a
 * recipient list of 125,000 zeros (250 KB, under every size limit) is a 400 over HTTP, an answered refusal as an
 * event, and does not stop a valid sibling in the same EventBridge batch. Payloads up to the invoke limit keep the
 * stack's memory bounded: its peak RSS is read from /proc before and after.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudEvent } from '../fixtures/requests.js';
import { call, invoke, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ MAX_RECIPIENTS: '100000', MAX_COUPON_AMOUNT: '500' });
});
afterAll(async () => {
  await stack.stop();
});

const zeros = (n: number) => `[${Buffer.alloc(2 * n - 1, '0,').toString('latin1')}]`;
const flatWith = (list: string, requestId = rid('poison')) =>
  `{"SellerId":3944837183,"TemplateId":295873,"RequestId":"${requestId}","FromApp":"poison-app","userAmountModelList":${list}}`;
const post = (body: string) =>
  call(`${stack.gateway}/coupons`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('125,000 zeros and other lists full of problems', () => {
  it('over HTTP: 400 naming the list, nothing sent', async () => {
    const body = flatWith(zeros(125_000));
    expect(Buffer.byteLength(body)).toBeLessThan(256 * 1024);
    const before = (await ledger(stack)).length;
    const a = await post(body);
    expect(a.status).toBe(400);
    expect(a.json).toMatchObject({ Success: false, Code: 'InvalidParameter' });
    expect(a.json.errors).toEqual([
      {
        path: '/userAmountModelList',
        message: 'must have at most 100000 entries (MAX_RECIPIENTS); it has 125000, none of them checked',
      },
    ]);
    expect((await ledger(stack)).length).toBe(before);
  });

  it('over HTTP, 100,000 bad entries within MAX_RECIPIENTS: the first 100 listed, the rest counted', async () => {
    const a = await post(flatWith(zeros(100_000)));
    expect(a.status).toBe(400);
    expect(a.json.Message).toBe('The request is invalid: 100000 problems, the first 100 are listed in errors.');
    expect(a.json.errors).toHaveLength(101);
    expect(a.json.errors.at(-1)).toEqual({
      path: '',
      message: '99900 more problems are not listed (only the first 100 are)',
    });
  });

  it('as one CloudEvent: answered with its refusal, not thrown for the platform to retry', async () => {
    const a = await invoke(
      stack,
      'coupon-event',
      `{"specversion":"1.0","id":"${rid('ce')}","source":"poison","data":${flatWith(zeros(125_000))}}`,
    );
    expect(a.status).toBe(200);
    expect(a.headers.get('x-fc-error-type')).toBeNull();
    expect(a.json).toMatchObject({ Success: false, Code: 'InvalidParameter' });
  });

  it('in an EventBridge batch: the poison event answered in place, its valid sibling sent once', async () => {
    const id = rid('sibling');
    const good = cloudEvent(id, {
      SellerId: 3944837183,
      TemplateId: 295873,
      FromApp: 'poison-app',
      userAmountModelList: [{ uid: 1918000000731, amount: 3 }],
    });
    const poison = `{"specversion":"1.0","id":"${id}-p","source":"poison","data":${flatWith(zeros(125_000))}}`;
    const batch = `[${JSON.stringify(good)},${poison}]`;
    for (let delivery = 0; delivery < 2; delivery++) {
      const a = await invoke(stack, 'coupon-event', batch);
      expect(a.headers.get('x-fc-error-type')).toBeNull();
      expect(a.json.map((r: { Code: string }) => r.Code)).toEqual(['success', 'InvalidParameter']);
    }
    const issued = (await ledger(stack)).filter((c) => c.requestId.startsWith(`acs.coupon.campaign:${id}`));
    expect(issued.map((c) => ({ uid: c.uid, amount: c.amount }))).toEqual([{ uid: '1918000000731', amount: 3 }]);
  });
});

describe('MAX_COUPON_AMOUNT is a limit the amount may reach', () => {
  it.each<[string, string, number]>([
    ['exactly 500 is sent', '500', 200],
    ['500.01 is refused', '500.01', 400],
  ])('%s', async (_name, amount, status) => {
    const requestId = rid('boundary');
    const a = await post(flatWith(`[{"uid":1918000000732,"amount":${amount}}]`, requestId));
    expect(a.status).toBe(status);
    const issued = (await ledger(stack)).filter((c) => c.requestId === requestId);
    expect(issued.map((c) => c.amount)).toEqual(status === 200 ? [500] : []);
  });
});

/** Peak resident memory of the stack's process so far (Linux), in MB. */
const peakRssMb = () => {
  const line = readFileSync(`/proc/${stack.process.pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
};

describe('memory stays bounded for payloads up to the 32 MB invoke limit', () => {
  const rawData = (list: string) => flatWith(list);
  const list = (n: number, item: string) => rawData(`[${Array<string>(n).fill(item).join(',')}]`);
  it.each<[string, string, () => string]>([
    ['27 MB of zeros (13.5 million values)', 'PayloadTooLarge', () => rawData(zeros(13_500_000))],
    ['27 MB of strings (950,000 values)', 'InvalidParameter', () => list(950_000, `"${'a'.repeat(25)}"`)],
    ['990,000 numbers the exact parser keeps as text', 'InvalidParameter', () => list(990_000, '1e999')],
    [
      '50,000 entries of 18 unknown properties each',
      'InvalidParameter',
      () => list(50_000, `{${Array.from({ length: 18 }, (_, k) => `"x${k}":0`).join(',')}}`),
    ],
  ])('%s: answered %s, peak RSS grows by less than 250 MB', async (_name, code, build) => {
    const payload = build();
    const before = peakRssMb();
    const a = await invoke(stack, 'coupon-event', payload);
    expect(a.headers.get('x-fc-error-type')).toBeNull();
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ Success: false, Code: code });
    const growth = peakRssMb() - before;
    expect(growth).toBeLessThan(250);
    expect((await call(`${stack.gateway}/healthz`)).status).toBe(200);
  });
});

describe('the stack still answers a plain request afterwards', () => {
  it('sends a valid request', async () => {
    const a = await postJson(`${stack.gateway}/coupons`, JSON.parse(flatWith('[{"uid":1918000000733,"amount":1}]')));
    expect(a.status).toBe(200);
  });
});
