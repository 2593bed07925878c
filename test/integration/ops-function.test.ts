/*
 * The built dist/coupon-ops bundle, run as FC's nodejs20 runtime runs it (plain node, one process per instance),
 * against a real redis-server and the emulator over HTTP: it serves the page at /__ui from what dist/coupon-http
 * wrote, refuses a reconcile without the page's token or from another origin, and reconciles an UNKNOWN with the
 * role's credentials, recording what GetCouponPage found and sending nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server.js';
import { buildAll } from '../../scripts/build.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { postJson, rid } from '../helpers/stack.js';

const run = promisify(execFile);
const KEY = { accessKeyId: 'STS.opsPage', accessKeySecret: 'ops-secret', securityToken: 'ops-token' };
const HOST = 'ops-trigger.cn-hangzhou.fcapp.run';
const ORIGIN = `https://${HOST}`;
const FORM = 'application/x-www-form-urlencoded';

let out = '';
let redis: RedisServer;
let emulator: Emulator;

interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** One invocation of a built function in its own plain `node` process: a fresh instance each time. */
async function invoke(fn: string, event: unknown, context: object = { credentials: KEY }): Promise<Answer> {
  const script = `
    const { handler } = await import(${JSON.stringify(`${out}/${fn}/index.mjs`)});
    const answer = await handler(Buffer.from(process.env.EVENT), { requestId: '1-ops', function: { name: '${fn}', timeout: 30 }, ...JSON.parse(process.env.CONTEXT) });
    process.stdout.write('RESULT ' + JSON.stringify(answer) + '\\n');
    process.exit(0);
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env['PATH'] ?? '',
      EVENT: JSON.stringify(event),
      CONTEXT: JSON.stringify(context),
      FC_FUNCTION_NAME: fn,
      FC_REGION: 'cn-hangzhou',
      IDEMPOTENCY_STORE: redis.url,
      RESELLERTRADE_ENDPOINT: emulator.url,
      UPSTREAM_TIMEOUT_MS: '800',
      RECONCILE_SETTLE_SECONDS: '0',
      SELLER_ID: '3944837183',
      DAILY_BUDGET: '1000',
    },
    encoding: 'utf8',
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
  return JSON.parse(line.slice('RESULT '.length)) as Answer;
}

const httpEvent = (
  method: string,
  path: string,
  init: { headers?: Record<string, string>; query?: Record<string, string>; body?: string } = {},
) => ({
  version: 'v1',
  rawPath: path,
  body: init.body ?? '',
  isBase64Encoded: false,
  headers: { Host: HOST, ...init.headers },
  queryParameters: init.query ?? {},
  requestContext: { requestId: '1-ops', domainName: HOST, http: { method, path } },
});

const page = (method: string, path: string, init: Parameters<typeof httpEvent>[2] = {}) =>
  invoke('coupon-ops', httpEvent(method, path, init));

/** Sends one coupon through dist/coupon-http while the emulator issues it, then answers too late: UNKNOWN. */
async function unknownOperation(label: string): Promise<string> {
  const requestId = rid(label);
  await postJson(`${emulator.url}/__emulator/faults`, { mode: 'timeout-after', count: 1, delayMs: 3000 });
  const sent = await invoke(
    'coupon-http',
    httpEvent('POST', '/coupons', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        SellerId: 3944837183,
        TemplateId: 295873,
        FromApp: 'ops-app',
        RequestId: requestId,
        userAmountModelList: [{ uid: '1918000000883', amount: 5 }],
      }),
    }),
  );
  expect(JSON.parse(sent.body)).toMatchObject({ userAmountModelList: [{ status: 'UNKNOWN' }] });
  // Past the attempt's settle horizon (UPSTREAM_TIMEOUT_MS 800 + RECONCILE_SETTLE_SECONDS 0), so reconcile asks.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return requestId;
}

/** The link to the operation listed for requestId, and the reconcile token of its page. */
async function formOf(requestId: string): Promise<{ href: string; token: string }> {
  const list = await page('GET', '/__ui', { query: { requestId } });
  const href = /href="(\/__ui\/operations\/[0-9a-f]{64})"/.exec(list.body)?.[1] ?? '';
  const detail = await page('GET', href);
  return { href, token: /name="token" value="([^"]+)"/.exec(detail.body)?.[1] ?? '' };
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'ops-dist-'));
  [, redis, emulator] = await Promise.all([buildAll(out), startRedis(), startEmulator({ ...KEY })]);
}, 240_000);
afterAll(async () => {
  await Promise.all([emulator?.close(), redis?.stop()]);
  rmSync(out, { recursive: true, force: true });
});

describe('the built dist/coupon-ops bundle', () => {
  it('bundles nothing of local/ and serves nothing but the page', async () => {
    expect(readFileSync(`${out}/coupon-ops/bundle.cjs`, 'latin1')).not.toMatch(/__emulator\/faults|LOCAL_AUTH/);
    const elsewhere = await page('POST', '/coupons', { body: '{}' });
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.body).toContain('/__ui');
  });

  it('lists an UNKNOWN that dist/coupon-http left in Redis, refuses forged posts, and reconciles it without sending', async () => {
    const requestId = await unknownOperation('ops-fn');
    expect(emulator.ledger.list()).toHaveLength(1);

    const list = await page('GET', '/__ui', { query: { state: 'UNKNOWN', requestId } });
    expect(list.statusCode).toBe(200);
    expect(list.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(list.headers['content-security-policy']).toContain("form-action 'self'");
    expect(list.body).toContain(requestId);
    expect(list.body).not.toContain('Emulator ledger');
    const href = /href="(\/__ui\/operations\/[0-9a-f]{64})"/.exec(list.body)?.[1] ?? '';
    expect(href).not.toBe('');

    const detail = await page('GET', href);
    expect(detail.statusCode).toBe(200);
    expect(detail.body).toContain('1918******883');
    expect(detail.body).not.toContain('1918000000883');
    const token = /name="token" value="([^"]+)"/.exec(detail.body)?.[1] ?? '';
    expect(token).toMatch(/^[0-9]+\.[A-Za-z0-9_-]{43}$/);

    const post = (headers: Record<string, string>, body: string) =>
      page('POST', `${href}/reconcile`, { headers: { 'Content-Type': FORM, ...headers }, body });
    const refusals = await Promise.all([
      post({ Origin: ORIGIN }, ''),
      post({ Origin: ORIGIN }, `token=${Date.now()}.${'A'.repeat(43)}`),
      post({ Origin: 'https://evil.test' }, `token=${token}`),
      post({ Origin: `http://${HOST}` }, `token=${token}`),
      post({}, `token=${token}`),
    ]);
    expect(refusals.map((r) => r.statusCode)).toEqual([403, 403, 403, 403, 403]);
    expect(refusals[0]?.body).toContain('no valid token');
    expect(refusals[2]?.body).toContain('not from this page');
    expect(emulator.stats().calls).toBe(1);

    // Posted to another instance than the one that served the form: the form secret is shared through Redis.
    const reconciled = await post(
      { Origin: ORIGIN, Referer: `${ORIGIN}${href}` },
      `token=${encodeURIComponent(token)}`,
    );
    expect(reconciled.statusCode).toBe(200);
    expect(reconciled.body).toContain('Checked 1 recipient(s) with GetCouponPage');
    expect(reconciled.body).toContain('Nothing was sent.');
    expect(reconciled.body).toMatch(/SENT[\s\S]*reconciled: issued/);
    expect(emulator.ledger.list()).toHaveLength(1);
    expect(emulator.stats().sendCoupon).toBe(1);

    const after = await page('GET', href);
    expect(after.body).not.toContain('Reconcile the UNKNOWN recipients');
  });

  it('answers a request it cannot read with a 400, and a reconcile without the role’s credentials with a 500 that records nothing', async () => {
    const bad = await invoke('coupon-ops', { version: 'v1', requestContext: {} });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('InvalidEvent');
    const filter = await page('GET', '/__ui', { query: { state: 'LOST' } });
    expect(filter.statusCode).toBe(400);
    expect(filter.body).toContain('state must be one of');

    const requestId = await unknownOperation('ops-fn-nokey');
    const { href, token } = await formOf(requestId);
    const calls = emulator.stats().calls;
    const event = httpEvent('POST', `${href}/reconcile`, {
      headers: { 'Content-Type': FORM, Origin: ORIGIN },
      body: `token=${encodeURIComponent(token)}`,
    });
    const noRole = await invoke('coupon-ops', event, { credentials: {} });
    expect(noRole).toMatchObject({ statusCode: 500, body: expect.stringContaining('MissingCredentials') });
    expect(emulator.stats().calls).toBe(calls);
    expect((await page('GET', href)).body).toContain('Reconcile the UNKNOWN recipients');
  });
});
