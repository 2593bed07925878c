import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../lib/acs/sign-request.js';
import { signEveryHeader } from '../helpers/acs3-independent.js';
import { CALLER, CALLER_KEYS, sdkSignedPost, signedPost } from '../helpers/caller.js';
import { call, ledger, rid, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ LOCAL_AUTH: 'function', LOCAL_CALLER_KEYS: CALLER_KEYS });
});
afterAll(async () => {
  await stack.stop();
});

const body = (id = rid('caller')) =>
  JSON.stringify({
    SellerId: 3944837183,
    TemplateId: 295873,
    RequestId: id,
    FromApp: 'callers',
    userAmountModelList: [{ uid: 1918000000883, amount: 1 }],
  });

async function refusedWithNothingSent(send: () => Promise<Response>, status: number, code: string) {
  const before = (await ledger(stack)).length;
  const res = await send();
  expect(res.status).toBe(status);
  const answer = (await res.json()) as { Code: string; RequestId: string };
  expect(answer.Code).toBe(code);
  expect(res.headers.get('x-fc-request-id')).toBe(answer.RequestId);
  expect((await ledger(stack)).length).toBe(before);
}

describe('caller authentication (LOCAL_AUTH=function)', () => {
  const url = () => `${stack.gateway}/coupons`;

  it('accepts a call signed by our caller helper', async () => {
    const res = await signedPost(url(), body());
    expect(res.status).toBe(200);
    expect(((await res.json()) as { Success: boolean }).Success).toBe(true);
  });

  it("accepts a call signed by Alibaba's own Node signer (@alicloud/openapi-util)", async () => {
    expect((await sdkSignedPost(url(), body())).status).toBe(200);
  });

  it('accepts a call signed over every header it sends (computed independently)', async () => {
    const text = body();
    const u = new URL(url());
    const headers = signEveryHeader(
      text,
      {
        host: u.host,
        'content-type': 'application/json',
        accept: 'application/json',
        'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'x-acs-signature-nonce': `n-${rid()}`,
      },
      CALLER.accessKeyId,
      CALLER.accessKeySecret,
      { method: 'POST', path: '/coupons' },
    );
    expect((await fetch(url(), { method: 'POST', headers, body: text })).status).toBe(200);
  });

  it.each<[string, () => Promise<Response>, number, string]>([
    [
      'unsigned',
      () =>
        fetch(`${stack.gateway}/coupons`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: body(),
        }),
      401,
      'MissingAuthorization',
    ],
    [
      'a garbage Authorization',
      () =>
        fetch(`${stack.gateway}/coupons`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'garbage' },
          body: body(),
        }),
      401,
      'InvalidAuthorization',
    ],
    [
      'a wrong secret',
      () => signedPost(`${stack.gateway}/coupons`, body(), { ...CALLER, accessKeySecret: 'wrong' }),
      403,
      'SignatureDoesNotMatch',
    ],
    [
      'an unknown key',
      () => signedPost(`${stack.gateway}/coupons`, body(), { accessKeyId: 'nobody', accessKeySecret: 'x' }),
      403,
      'InvalidAccessKeyId.NotFound',
    ],
    [
      'a stale date',
      () => signedPost(`${stack.gateway}/coupons`, body(), CALLER, { date: new Date(Date.now() - 20 * 60_000) }),
      403,
      'InvalidTimeStamp.Expired',
    ],
    [
      'a tampered body',
      () => {
        const signed = signRequest(
          {
            method: 'POST',
            url: new URL(`${stack.gateway}/coupons`),
            headers: { 'content-type': 'application/json' },
            body: body('a'),
          },
          CALLER,
        );
        return fetch(`${stack.gateway}/coupons`, { method: 'POST', headers: signed, body: body('b') });
      },
      403,
      'SignatureDoesNotMatch',
    ],
  ])('refuses %s, and sends nothing', async (_name, send, status, code) => {
    await refusedWithNothingSent(send, status, code);
  });

  it('refuses a replayed nonce', async () => {
    const text = body();
    const headers = signRequest(
      { method: 'POST', url: new URL(url()), headers: { 'content-type': 'application/json' }, body: text },
      CALLER,
    );
    expect((await fetch(url(), { method: 'POST', headers, body: text })).status).toBe(200);
    await refusedWithNothingSent(
      () => fetch(url(), { method: 'POST', headers, body: text }),
      403,
      'SignatureNonceUsed',
    );
  });

  it('checks the invoke paths and the async results too', async () => {
    const invokeUrl = `${stack.gateway}/2023-03-30/functions/coupon-event/invocations`;
    expect((await call(invokeUrl, { method: 'POST', body: body() })).status).toBe(401);
    const signed = signRequest(
      { method: 'POST', url: new URL(invokeUrl), headers: { 'x-fc-invocation-type': 'Async' }, body: body() },
      CALLER,
    );
    expect((await fetch(invokeUrl, { method: 'POST', headers: signed, body: body() })).status).toBe(403);
    const text = body();
    const ok = signRequest(
      { method: 'POST', url: new URL(invokeUrl), headers: { 'x-fc-invocation-type': 'Async' }, body: text },
      CALLER,
    );
    const accepted = await fetch(invokeUrl, { method: 'POST', headers: ok, body: text });
    expect(accepted.status).toBe(202);
    const results = `${stack.gateway}/__gateway/invocations/${accepted.headers.get('x-fc-request-id')}`;
    expect((await call(results)).status).toBe(401);
    const get = signRequest({ method: 'GET', url: new URL(results), body: '' }, CALLER);
    expect((await fetch(results, { headers: get })).status).toBe(200);
  });
});
