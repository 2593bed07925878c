/**
 * The gateway's caller check (LOCAL_AUTH=function) over real HTTP: a request verifies only as it was signed (path,
 * query, one Authorization header), a replay stays refused for as long as its date is acceptable (with the
 * gateway's clock moved past the old nonce window), and an unsigned body is refused before it is read.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signRequest } from '../../lib/acs/sign-request.js';
import type { FcContext } from '../../lib/fc.js';
import { createCallerAuth } from '../../local/auth/caller-auth.js';
import { startEmulator, type Emulator } from '../../local/emulator/server.js';
import { inlineInvoker } from '../../local/instances/inline.js';
import { startGateway, type Gateway } from '../../local/gateway.js';
import { signEveryHeader } from '../helpers/acs3-independent.js';
import { CALLER, CALLER_KEYS } from '../helpers/caller.js';
import { portOf, rawRequest } from '../helpers/raw-http.js';
import { ledger, rid, startStack, type Stack } from '../helpers/stack.js';

const body = (id = rid('window')) =>
  JSON.stringify({
    SellerId: 3944837183,
    TemplateId: 295873,
    RequestId: id,
    FromApp: 'callers',
    userAmountModelList: [{ uid: 1918000000883, amount: 1 }],
  });

const sign = (url: string, text: string, at: { date?: Date; nonce?: string } = {}) =>
  signRequest(
    { method: 'POST', url: new URL(url), headers: { 'content-type': 'application/json' }, body: text },
    CALLER,
    at,
  );

/** A request as raw bytes, with the request target and header lines exactly as given. */
const raw = (target: string, headers: Record<string, string>, text: string, extra: string[] = []) =>
  `POST ${target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}${extra.join('')}content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`;

describe('over the local stack', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ LOCAL_AUTH: 'function', LOCAL_CALLER_KEYS: CALLER_KEYS });
  });
  afterAll(async () => {
    await stack.stop();
  });

  const mine = async (requestId: string) => (await ledger(stack)).filter((c) => c.requestId === requestId);

  it('sends a request signed over ?a=1 and sent so', async () => {
    const id = rid('query-ok');
    const url = `${stack.gateway}/coupons?a=1`;
    const text = body(id);
    expect((await fetch(url, { method: 'POST', headers: sign(url, text), body: text })).status).toBe(200);
    expect(await mine(id)).toHaveLength(1);
  });

  it('refuses ?a=2&a=1 for a request signed over ?a=1 (403), nothing sent', async () => {
    const id = rid('query-twice');
    const text = body(id);
    const headers = sign(`${stack.gateway}/coupons?a=1`, text);
    const res = await fetch(`${stack.gateway}/coupons?a=2&a=1`, { method: 'POST', headers, body: text });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { Code: string }).Code).toBe('SignatureDoesNotMatch');
    expect(await mine(id)).toHaveLength(0);
  });

  it('refuses /x/../coupons for a request signed over /coupons (403), nothing sent; the plain path passes', async () => {
    const port = portOf(stack.gateway);
    const refusedId = rid('dots');
    const text = body(refusedId);
    expect(await rawRequest(port, raw('/x/../coupons', sign(`${stack.gateway}/coupons`, text), text))).toMatch(
      /^HTTP\/1\.1 403/,
    );
    expect(await mine(refusedId)).toHaveLength(0);
    const okId = rid('plain');
    const ok = body(okId);
    expect(await rawRequest(port, raw('/coupons', sign(`${stack.gateway}/coupons`, ok), ok))).toMatch(
      /^HTTP\/1\.1 200/,
    );
    expect(await mine(okId)).toHaveLength(1);
  });

  it('refuses a second Authorization header (401), nothing sent', async () => {
    const id = rid('two-auth');
    const text = body(id);
    const headers = sign(`${stack.gateway}/coupons`, text);
    const second = `Authorization: ${headers['authorization'] ?? ''}\r\n`;
    expect(await rawRequest(portOf(stack.gateway), raw('/coupons', headers, text, [second]))).toMatch(
      /^HTTP\/1\.1 401/,
    );
    expect(await mine(id)).toHaveLength(0);
  });

  it('refuses eight unsigned 30 MB bodies without holding them: peak RSS grows by less than 100 MB', async () => {
    const peakMb = () =>
      Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${stack.process.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    const big = Buffer.alloc(30 * 1024 * 1024, 0x20);
    const before = peakMb();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${stack.gateway}/coupons`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: big,
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(401));
    expect(peakMb() - before).toBeLessThan(100);
  });
});

describe('with the gateway clock moved past the old 15-minute nonce window', () => {
  let emulator: Emulator;
  let gateway: Gateway;
  let clock = Date.now();

  beforeAll(async () => {
    const key = { accessKeyId: 'window-key', accessKeySecret: 'window-secret' };
    emulator = await startEmulator(key);
    Object.assign(process.env, { RESELLERTRADE_ENDPOINT: emulator.url, LOG_LEVEL: 'error' });
    const http = (await import('../../functions/http.js')).handler as (e: Buffer, c: FcContext) => Promise<unknown>;
    const [id = '', secret = ''] = (CALLER_KEYS.split(',')[0] ?? '').split(':');
    gateway = await startGateway({
      invoker: inlineInvoker({ 'coupon-http': http }),
      functionSettings: { 'coupon-http': { timeoutSeconds: 60, memoryMb: 256 } },
      httpFunction: 'coupon-http',
      credentials: key,
      callerAuth: createCallerAuth(new Map([[id, secret]]), () => clock),
    });
  });
  afterAll(async () => {
    await gateway.close();
    await emulator.close();
  });

  it('refuses the replay of a request dated 14 minutes ahead, 16 minutes after it was accepted (403)', async () => {
    const url = `${gateway.url}/coupons`;
    const id = rid('ahead');
    const text = body(id);
    const headers = sign(url, text, { date: new Date(clock + 14 * 60_000) });
    expect((await fetch(url, { method: 'POST', headers, body: text })).status).toBe(200);
    clock += 16 * 60_000;
    const replay = await fetch(url, { method: 'POST', headers, body: text });
    expect(replay.status).toBe(403);
    expect(((await replay.json()) as { Code: string }).Code).toBe('SignatureNonceUsed');
    expect((await ledger({ emulator: emulator.url })).filter((c) => c.requestId === id)).toHaveLength(1);
  });
});

describe("the emulator's nonces, with its clock moved", () => {
  it('refuses a SendCoupon dated 14 minutes ahead when it comes again 16 minutes later, and issues once', async () => {
    const key = { accessKeyId: 'emu-window', accessKeySecret: 'emu-window-secret' };
    const emulator = await startEmulator(key);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const form =
        'SellerId=3944837183&TemplateId=295873&RequestId=emu-ahead&FromApp=w&UserAmountModelList.1.Uid=1918000000883&UserAmountModelList.1.Amount=5';
      const headers = signEveryHeader(
        form,
        {
          host: new URL(emulator.url).host,
          'content-type': 'application/x-www-form-urlencoded',
          'x-acs-action': 'SendCoupon',
          'x-acs-version': '2019-12-27',
          'x-acs-date': new Date(Date.now() + 14 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          'x-acs-signature-nonce': rid('emu-nonce'),
        },
        key.accessKeyId,
        key.accessKeySecret,
      );
      expect((await fetch(emulator.url, { method: 'POST', headers, body: form })).status).toBe(200);
      vi.setSystemTime(Date.now() + 16 * 60_000);
      const replay = await fetch(emulator.url, { method: 'POST', headers, body: form });
      expect(((await replay.json()) as { Code: string }).Code).toBe('SignatureNonceUsed');
      expect(emulator.ledger.list().filter((c) => c.requestId === 'emu-ahead')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
      await emulator.close();
    }
  });
});
