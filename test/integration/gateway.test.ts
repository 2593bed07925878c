import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudEvent } from '../fixtures/requests.js';
import { call, ledger, rid, startStack, type Stack } from '../helpers/stack.js';

// @alicloud/fc2 (CommonJS, no types): an FC client nobody here wrote, used against the local gateway.
const require = createRequire(import.meta.url);
interface FcClient {
  invokeFunction(
    service: string,
    fn: string,
    event: string,
    headers?: Record<string, string>,
  ): Promise<{ headers: Record<string, string>; data: unknown }>;
}
const FC = require('@alicloud/fc2') as new (accountId: string, config: Record<string, unknown>) => FcClient;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.stop();
});

const client = () =>
  new FC('1234567890123456', {
    accessKeyID: 'local',
    accessKeySecret: 'local',
    region: 'cn-hangzhou',
    endpoint: stack.gateway,
    timeout: 10_000,
  });
const event = (uid: number) =>
  JSON.stringify(
    cloudEvent(rid('fc2'), {
      SellerId: 3944837183,
      TemplateId: 295873,
      FromApp: 'fc2',
      userAmountModelList: [{ uid, amount: 1 }],
    }),
  );

describe('the local gateway, called by @alicloud/fc2', () => {
  it('runs a synchronous InvokeFunction and returns the result with x-fc-request-id', async () => {
    const res = await client().invokeFunction('coupon-service', 'coupon-event', event(501));
    expect(res.headers['x-fc-request-id']).toMatch(/^1-/);
    expect(res.data).toMatchObject({ Success: true, userAmountModelList: [{ uid: 501, status: 'SENT' }] });
    expect((await ledger(stack)).filter((c) => c.uid === '501')).toHaveLength(1);
  });

  it('accepts an asynchronous InvokeFunction with 202 and runs it in the background', async () => {
    const res = await client().invokeFunction('coupon-service', 'coupon-event', event(502), {
      'x-fc-invocation-type': 'Async',
    });
    const id = res.headers['x-fc-request-id'];
    let record = (await call(`${stack.gateway}/__gateway/invocations/${id}`)).json;
    for (let i = 0; i < 50 && record.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      record = (await call(`${stack.gateway}/__gateway/invocations/${id}`)).json;
    }
    expect(record).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect((await ledger(stack)).filter((c) => c.uid === '502')).toHaveLength(1);
  });

  it('answers a malformed HTTP event with a 400 result, and 404s an unknown function', async () => {
    const res = await call(`${stack.gateway}/2023-03-30/functions/coupon-http/invocations`, {
      method: 'POST',
      body: 'not an http event',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ statusCode: 400 });
    const missing = await call(`${stack.gateway}/2023-03-30/functions/nope/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(missing.status).toBe(404);
  });
});

describe('FC fidelity of the local gateway', () => {
  const invokeUrl = (fn: string) => `${stack.gateway}/2023-03-30/functions/${fn}/invocations`;

  it('returns the invocation log tail in x-fc-log-result for X-Fc-Log-Type: Tail', async () => {
    const res = await call(invokeUrl('coupon-event'), {
      method: 'POST',
      headers: { 'x-fc-log-type': 'Tail' },
      body: event(601),
    });
    const requestId = res.headers.get('x-fc-request-id') ?? '';
    const tail = Buffer.from(res.headers.get('x-fc-log-result') ?? '', 'base64').toString('utf8');
    const lines = stack.logs.filter((l) => l.includes(`"requestId":"${requestId}"`));
    expect(lines.length).toBeGreaterThan(1);
    expect(tail).toBe(lines.map((l) => `${l}\n`).join(''));
    const plain = await call(invokeUrl('coupon-event'), { method: 'POST', body: event(602) });
    expect(plain.headers.get('x-fc-log-result')).toBeNull();
  });

  it('cuts each instance’s log per invocation: concurrent tails hold their own lines only', async () => {
    const tails = await Promise.all(
      [611, 612, 613].map(async (uid) => {
        const res = await call(invokeUrl('coupon-event'), {
          method: 'POST',
          headers: { 'x-fc-log-type': 'Tail' },
          body: event(uid),
        });
        const text = Buffer.from(res.headers.get('x-fc-log-result') ?? '', 'base64').toString('utf8');
        return { requestId: res.headers.get('x-fc-request-id') ?? '', lines: text.split('\n').filter(Boolean) };
      }),
    );
    for (const { requestId, lines } of tails) {
      expect(lines.length).toBeGreaterThan(1);
      expect(lines.every((l) => l.includes(`"requestId":"${requestId}"`))).toBe(true);
    }
  });

  it('keeps the caller’s X-Fc-Async-Task-Id as the invocation id, and refuses it twice', async () => {
    const taskId = rid('task');
    const headers = { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': taskId };
    const res = await call(invokeUrl('coupon-event'), { method: 'POST', headers, body: event(603) });
    expect(res.status).toBe(202);
    expect([res.headers.get('x-fc-request-id'), res.headers.get('x-fc-async-task-id')]).toEqual([taskId, taskId]);
    let record = (await call(`${stack.gateway}/__gateway/invocations/${taskId}`)).json;
    for (let i = 0; i < 50 && record.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      record = (await call(`${stack.gateway}/__gateway/invocations/${taskId}`)).json;
    }
    expect(record).toMatchObject({ requestId: taskId, status: 'succeeded' });
    expect((await call(invokeUrl('coupon-event'), { method: 'POST', headers, body: event(604) })).status).toBe(409);
  });

  it('serves X-Fc-Invocation-Type: Async on the HTTP trigger route too: 202, then the send in the background', async () => {
    const id = rid('http-async');
    const body = JSON.stringify({
      SellerId: 3944837183,
      TemplateId: 295873,
      FromApp: 'fc2',
      RequestId: id,
      userAmountModelList: [{ uid: 605, amount: 1 }],
    });
    const res = await call(`${stack.gateway}/coupons`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fc-invocation-type': 'Async' },
      body,
    });
    expect(res.status).toBe(202);
    for (let i = 0; i < 50 && (await ledger(stack)).every((c) => c.requestId !== id); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(1);
  });
});
