import { describe, expect, it } from 'vitest';
import { signRequest } from '../../../lib/acs/sign-request.js';
import { createCallerAuth, type CallerHead } from '../../../local/auth/caller-auth.js';
import { NonceWindow } from '../../../local/auth/nonce-window.js';

const KEY = { accessKeyId: 'caller-1', accessKeySecret: 'caller-secret' };
const keys = new Map([[KEY.accessKeyId, KEY.accessKeySecret]]);
const T0 = Date.parse('2026-11-30T12:00:00Z');
const MIN = 60_000;

/** A request as the gateway sees it: `target` is what goes on the request line, `signedOver` what was signed. */
function head(
  headers: Record<string, string>,
  target = '/coupons',
  extraRaw: string[] = [],
  method = 'POST',
): CallerHead {
  const rawHeaders = [...Object.entries(headers).flat(), ...extraRaw];
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { method, target, url: new URL(target, 'http://gw.local'), headers: lower, rawHeaders };
}

const signed = (path = '/coupons', at: { date?: Date; nonce?: string } = {}, body = '{}') =>
  signRequest({ method: 'POST', url: new URL(path, 'http://gw.local'), body }, KEY, at);

describe('nonces outlive the date window', () => {
  it('refuses a replay of a request dated 14 minutes ahead, 16 minutes after it was first accepted', () => {
    let now = T0;
    const auth = createCallerAuth(keys, () => now);
    const headers = signed('/coupons', { date: new Date(T0 + 14 * MIN), nonce: 'ahead-1' });
    expect(auth.head(head(headers))).toMatchObject({ ok: true });
    now = T0 + 16 * MIN;
    expect(auth.head(head(headers))).toMatchObject({ ok: false, status: 403, code: 'SignatureNonceUsed' });
    now = T0 + 29 * MIN + 1000;
    expect(auth.head(head(headers))).toMatchObject({ ok: false, status: 403, code: 'InvalidTimeStamp.Expired' });
  });

  it.each<[string, number, boolean]>([
    ['exactly 15 minutes ahead', 15 * MIN, true],
    ['16 minutes ahead', 16 * MIN, false],
    ['16 minutes behind', -16 * MIN, false],
  ])('a date %s', (_name, offset, accepted) => {
    const auth = createCallerAuth(keys, () => T0);
    const verdict = auth.head(head(signed('/coupons', { date: new Date(T0 + offset) })));
    if (accepted) expect(verdict).toMatchObject({ ok: true });
    else expect(verdict).toMatchObject({ ok: false, status: 403, code: 'InvalidTimeStamp.Expired' });
  });

  it('NonceWindow forgets each nonce only once its own expiry has passed, whatever the order they came in', () => {
    const w = new NonceWindow();
    w.remember('late', 300);
    w.remember('early', 100);
    w.remember('middle', 200);
    expect([w.has('late', 100), w.has('early', 100), w.has('middle', 100)]).toEqual([true, true, true]);
    expect([w.has('early', 101), w.has('middle', 101), w.has('late', 101)]).toEqual([false, true, true]);
    expect(w.has('late', 250)).toBe(true);
    expect(w.size).toBe(1);
    expect(w.has('late', 301)).toBe(false);
    expect(w.size).toBe(0);
  });
});

describe('path, query and headers are verified exactly as sent', () => {
  const auth = () => createCallerAuth(keys, () => T0);
  const at = { date: new Date(T0) };

  it.each<[string, string, string, number, string]>([
    ['a repeated query name after the signed one', '/coupons?a=1', '/coupons?a=2&a=1', 403, 'SignatureDoesNotMatch'],
    ['a repeated query name before the signed one', '/coupons?a=1', '/coupons?a=1&a=2', 403, 'SignatureDoesNotMatch'],
    ['a repeated query name, signed so', '/coupons?a=1&a=2', '/coupons?a=1&a=2', 403, 'SignatureDoesNotMatch'],
    ['a dot segment', '/coupons', '/x/../coupons', 403, 'SignatureDoesNotMatch'],
    ['an encoded dot segment', '/coupons', '/x/%2e%2e/coupons', 403, 'SignatureDoesNotMatch'],
    ['a backslash', '/coupons', '\\coupons', 403, 'SignatureDoesNotMatch'],
  ])('refuses %s', (_name, signedOver, sent, status, code) => {
    expect(auth().head(head(signed(signedOver, at), sent))).toMatchObject({ ok: false, status, code });
  });

  it.each<[string, string]>([
    ['a plain path', '/coupons'],
    ['a query', '/coupons?b=2&a=1'],
    ['a query value with spaces', '/coupons?a=x%20y'],
  ])('accepts %s sent as signed', (_name, target) => {
    expect(auth().head(head(signed(target, at), target))).toMatchObject({ ok: true });
  });

  it('accepts an absolute-form target whose path is the one signed', () => {
    expect(auth().head(head(signed('/coupons', at), 'http://gw.local/coupons'))).toMatchObject({ ok: true });
  });

  it('refuses a second Authorization header (401), even an identical one', () => {
    const headers = signed('/coupons', at);
    const again = ['Authorization', headers['authorization'] ?? ''];
    expect(auth().head(head(headers, '/coupons', again))).toMatchObject({
      ok: false,
      status: 401,
      code: 'InvalidAuthorization',
    });
  });

  it('refuses a signed header given twice', () => {
    const headers = signed('/coupons', at);
    const again = ['X-Acs-Date', headers['x-acs-date'] ?? ''];
    expect(auth().head(head(headers, '/coupons', again))).toMatchObject({ ok: false, status: 403 });
  });
});

describe('the head is judged before the body is read', () => {
  it('accepts the head on the signed hash alone, then refuses a body that does not match it', () => {
    const auth = createCallerAuth(keys, () => T0);
    const accepted = auth.head(head(signed('/coupons', { date: new Date(T0) }, '{"a":1}')));
    if (!accepted.ok) throw new Error(accepted.message);
    expect(auth.body(accepted, Buffer.from('{"a":1}'))).toMatchObject({ ok: true, accessKeyId: 'caller-1' });
    expect(auth.body(accepted, Buffer.from('{"a":2}'))).toMatchObject({
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('refuses a content hash that is not a SHA-256 before looking further', () => {
    const auth = createCallerAuth(keys, () => T0);
    const headers = { ...signed('/coupons', { date: new Date(T0) }), 'x-acs-content-sha256': 'UNSIGNED-PAYLOAD' };
    expect(auth.head(head(headers))).toMatchObject({ ok: false, status: 401 });
  });
});
