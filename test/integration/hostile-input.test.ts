import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, invoke, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';
import { portOf, rawRequest } from '../helpers/raw-http.js';
import { loadEvent } from '../events/load.js';
import { flatRequestText, refusedFlatPatches } from '../fixtures/requests.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.stop();
});

const flat = (patch: Record<string, string>, requestId = rid('hostile')) =>
  flatRequestText(patch, { requestId, fromApp: 'hostile-app', amount: '1' });

const post = (body: string | Buffer, contentType = 'application/json') =>
  call(`${stack.gateway}/coupons`, { method: 'POST', headers: { 'content-type': contentType }, body });

describe('input that must be refused: 400 naming the field, nothing sent', () => {
  it.each<[string, Record<string, string>, string]>([
    ...refusedFlatPatches,
    ['Operator with U+2029', { Operator: '"\\u2029"' }, '/Operator'],
    ['Operator with a C1 control', { Operator: '"\\u009b"' }, '/Operator'],
  ])('%s', async (_name, patch, path) => {
    const before = (await ledger(stack)).length;
    const a = await post(flat(patch));
    expect(a.status).toBe(400);
    expect(a.json.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect((await ledger(stack)).length).toBe(before);
  });

  it('refuses invalid UTF-8 inside a string instead of replacing it', async () => {
    const before = (await ledger(stack)).length;
    const [head, tail] = flat({ FromApp: '"app-MARK"' }).split('MARK');
    const a = await post(Buffer.concat([Buffer.from(head ?? ''), Buffer.from([0xc3, 0x28]), Buffer.from(tail ?? '')]));
    expect(a.status).toBe(400);
    expect(a.json.Code).toBe('InvalidEncoding');
    expect((await ledger(stack)).length).toBe(before);
  });

  it('answers 415 for a charset other than UTF-8', async () => {
    const a = await post(flat({}), 'application/json; charset=utf-16');
    expect(a.status).toBe(415);
  });

  it('never echoes a 10,000-character RequestId, nor logs a line over 8 KiB', async () => {
    const a = await post(flat({}, 'r'.repeat(10_000)));
    expect(a.status).toBe(400);
    expect(a.text.length).toBeLessThan(1000);
    expect(stack.logs.every((l) => Buffer.byteLength(l) <= 8192)).toBe(true);
  });

  it('never quotes a uid sent as a too-large number, in the answer or the logs', async () => {
    const a = await post(flat({ uid: '191800000088300000000' }));
    expect(a.status).toBe(400);
    expect(a.text).not.toContain('191800000088300000000');
    expect(stack.logs.join('\n')).not.toContain('191800000088300000000');
  });
});

describe('neighbours that must still pass, sent in canonical form', () => {
  it.each<[string, Record<string, string>, { uid: string; amount: number }]>([
    ['amount 8.88', { amount: '8.88' }, { uid: '1918000000883', amount: 8.88 }],
    ['amount 1e2', { amount: '1e2' }, { uid: '1918000000883', amount: 100 }],
    ['amount 100.0', { amount: '100.0' }, { uid: '1918000000883', amount: 100 }],
    ['uid 2^53-1 as a number', { uid: '9007199254740991' }, { uid: '9007199254740991', amount: 1 }],
    ['a 19-digit string uid', { uid: '"9223372036854775807"' }, { uid: '9223372036854775807', amount: 1 }],
  ])('%s', async (_name, patch, issued) => {
    const requestId = rid('neighbour');
    const a = await post(flat(patch, requestId));
    expect(a.status).toBe(200);
    expect(
      (await ledger(stack)).filter((c) => c.requestId === requestId).map((c) => ({ uid: c.uid, amount: c.amount })),
    ).toEqual([issued]);
  });
});

describe('batches with poison elements', () => {
  const envelope = (requestId: string, uid: number, amount: unknown) => ({
    fromApp: 'poison-app',
    requestId,
    param: { sellerId: 3944837183, templateId: 295873, userAmountModelList: [{ uid, amount }] },
  });

  it('issues the good elements of an HTTP batch once and answers the bad ones in place', async () => {
    const [good, bad, alsoGood] = [rid('good'), rid('bad'), rid('good2')];
    const body = [envelope(good, 11, 1), envelope(bad, 12, 1.001), envelope(alsoGood, 13, 2)];
    const a = await postJson(`${stack.gateway}/coupons`, body);
    expect(a.status).toBe(200);
    expect(a.json.map((r: { Code: string }) => r.Code)).toEqual(['success', 'InvalidParameter', 'success']);
    expect(a.json[1]).toMatchObject({ requestId: bad, errors: [{ path: '/1/param/userAmountModelList/0/amount' }] });
    const again = await postJson(`${stack.gateway}/coupons`, body);
    expect(again.json.map((r: { Code: string }) => r.Code)).toEqual(['success', 'InvalidParameter', 'success']);
    const issued = await ledger(stack);
    expect(issued.filter((c) => [good, alsoGood].includes(c.requestId))).toHaveLength(2);
    expect(issued.filter((c) => c.requestId === bad)).toHaveLength(0);
  });

  it('runs the good events of an EventBridge array and answers the poison ones, without a retry', async () => {
    const ce = loadEvent('cloudevent');
    const id = rid('evt');
    const good = { ...ce, id, data: { ...(ce['data'] as object), userAmountModelList: [{ uid: 21, amount: 1 }] } };
    const events = [good, { ...ce, id: undefined }, { ...ce, id: `${id}-x`, data: 'not json' }];
    const a = await invoke(stack, 'coupon-event', events);
    expect(a.headers.get('x-fc-error-type')).toBeNull();
    expect(a.json.map((r: { Code: string }) => r.Code)).toEqual(['success', 'InvalidEvent', 'InvalidJson']);
    expect(a.json[1].errors[0]).toMatchObject({ path: '/1/id' });
    expect((await ledger(stack)).filter((c) => c.uid === '21')).toHaveLength(1);
    expect(stack.logs.some((l) => l.includes('"level":"error"') && l.includes('request refused'))).toBe(true);
  });
});

describe('a local stack no request can stop', () => {
  it.each<[string, string | Buffer]>([
    ['a Host header with a space', 'POST /coupons HTTP/1.1\r\nHost: a b\r\nContent-Length: 0\r\n\r\n'],
    [
      'bad percent-encoding in an invoke path',
      'POST /2023-03-30/functions/%E0/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
    ],
    ['bad percent-encoding in another path', 'GET /%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n'],
    [
      'a declared body over 32 MB',
      'POST /coupons HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{',
    ],
    ['a broken request line', 'NOT HTTP AT ALL\r\n\r\n'],
  ])('answers %s with a 4xx or closes it, and keeps serving', async (_name, request) => {
    const status = await rawRequest(portOf(stack.gateway), request);
    expect(status === 'closed' || /^HTTP\/1\.1 4\d\d/.test(status)).toBe(true);
    expect((await call(`${stack.gateway}/healthz`)).status).toBe(200);
  });

  it('gives up on a declared body that never arrives', async () => {
    const started = Date.now();
    const status = await rawRequest(
      portOf(stack.gateway),
      'POST /coupons HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      20_000,
    );
    expect(status === 'closed' || /^HTTP\/1\.1 4\d\d/.test(status)).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await call(`${stack.gateway}/healthz`)).status).toBe(200);
  });

  it('answers an unknown function 404 with Code, Message, RequestId and x-fc-request-id', async () => {
    const a = await invoke(stack, 'no-such-function', {});
    expect(a.status).toBe(404);
    expect(a.json).toMatchObject({
      Code: 'FunctionNotFound',
      Message: expect.any(String),
      RequestId: expect.any(String),
    });
    expect(a.headers.get('x-fc-request-id')).toBe(a.json.RequestId);
  });
});
