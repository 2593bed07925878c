/*
 * The operations page's handler over real HTTP on a memory store: what it answers and what it leaves to the
 * gateway, paging through the store's index, malformed records, the campaigns hook, and a GetCouponPage that
 * fails during reconcile (nothing recorded). The browser tests (test/e2e) drive the whole stack.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger } from '../../../lib/guardrails/ledger.js';
import { keyOf } from '../../../lib/idempotency/keys.js';
import { createMemoryStore } from '../../../lib/idempotency/memory.js';
import type { IdempotencyRecord } from '../../../lib/idempotency/types.js';
import { storeRecords } from '../../../lib/operations/read.js';
import type { CouponLookup } from '../../../lib/reconcile/reconcile.js';
import { operationsPage, writePageAnswer, type CampaignReader, type PageDeps } from '../../../lib/ui/page.js';

const store = createMemoryStore();
let lookups = 0;
const failingLookup: CouponLookup = async () => {
  lookups += 1;
  return { ok: false, outcome: { kind: 'unknown', code: 'ServiceUnavailable', message: 'down' } };
};
const campaigns: CampaignReader = {
  list: async () => [{ id: 'c-1', name: 'Spring <sale>', state: 'RUNNING', total: 10, sent: 4, failed: 1, unknown: 0 }],
};
const deps = (over: Partial<PageDeps> = {}): PageDeps => ({
  records: storeRecords(store),
  budget: { ledger: createMemoryLedger(), timeZone: 'Asia/Shanghai', sellers: [] },
  openLookup: () => failingLookup,
  reconcile: { upstreamTimeoutMs: 0, settleMs: 0 },
  secret: Buffer.alloc(32, 1),
  ...over,
});

let base = '';
let current = deps();
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    void operationsPage(
      { method: req.method ?? 'GET', url, headers: req.headers, body: Buffer.concat(chunks) },
      current,
    ).then((answer) => {
      if (answer) writePageAnswer(res, answer);
      else res.writeHead(418).end('not the page');
    });
  });
});

const summary = (requestId: string) => ({
  sellerId: '1001',
  templateId: '2001',
  fromApp: 'app',
  requestId,
  recipients: [['1918000000883', '5']] as Array<[string, string]>,
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (let i = 0; i < 30; i++) {
    const requestId = `page-${String(i).padStart(2, '0')}`;
    await store.claim(keyOf('1001', 'app', requestId), {
      hash: 'h',
      chunkSize: 50,
      op: summary(requestId),
      owner: 'o',
      leaseUntil: 0,
      now: 1_000 + i,
      keepForMs: 600_000,
    });
  }
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const get = async (path: string) => {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, text: await res.text(), headers: res.headers };
};

describe('the operations page handler', () => {
  it('leaves every path outside /__ui to the gateway', async () => {
    expect((await get('/coupons')).status).toBe(418);
    expect((await get('/__uix')).status).toBe(418);
  });

  it('pages through the store index, 25 at a time, newest first', async () => {
    current = deps();
    const first = await get('/__ui');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-security-policy')).toContain("default-src 'none'");
    const ids = (text: string) => [...text.matchAll(/>(page-\d\d)<\/a>/g)].map((m) => m[1]);
    expect(ids(first.text)).toHaveLength(25);
    expect(ids(first.text)[0]).toBe('page-29');
    const next = /href="([^"]+)" rel="next"/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    const second = await get(next as string);
    expect(ids(second.text)).toEqual(['page-04', 'page-03', 'page-02', 'page-01', 'page-00']);
    expect(second.text).not.toContain('rel="next"');
  });

  it('names a malformed record and shows the rest', async () => {
    // chunkSize 0 cannot be: the reader names it instead of dividing by it.
    const broken: IdempotencyRecord = {
      status: 'IN_PROGRESS',
      hash: 'h',
      owner: 'o',
      leaseUntil: 0,
      chunkSize: 0,
      chunks: {},
      op: summary('broken'),
      createdAt: 5_000,
    };
    await store.restore('f'.repeat(64), broken, 600_000);
    const page = await get('/__ui');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Malformed records were skipped');
    expect(page.text).toContain('chunkSize must be a whole number');
    expect((await get(`/__ui/operations/${'f'.repeat(64)}`)).status).toBe(422);
  });

  it('shows campaigns only when it is given a campaign reader', async () => {
    current = deps();
    expect((await get('/__ui')).text).not.toContain('id="campaigns"');
    current = deps({ campaigns });
    const page = await get('/__ui');
    expect(page.text).toContain('id="campaigns"');
    expect(page.text).toContain('Spring &lt;sale&gt;');
    expect(page.text).toMatch(/<progress[^>]*max="10"[^>]*value="5"/);
  });

  it.each([
    ['PUT', '/__ui', 404],
    ['DELETE', `/__ui/operations/${keyOf('1001', 'app', 'page-01')}`, 405],
    ['GET', `/__ui/operations/${keyOf('1001', 'app', 'page-01')}/reconcile`, 405],
    ['GET', '/__ui/operations/not-a-key', 404],
    ['GET', '/__ui?state=SENT', 400],
    ['GET', '/__ui?before=garbage', 400],
  ])('%s %s answers %i with a page that says why', async (method, path, status) => {
    const res = await fetch(`${base}${path}`, { method });
    expect(res.status).toBe(status);
    expect(await res.text()).toContain('role="alert"');
  });

  it('a reconcile whose GetCouponPage fails records nothing and says so', async () => {
    current = deps();
    const key = keyOf('1001', 'app', 'unknown-1');
    await store.claim(key, {
      hash: 'h',
      chunkSize: 50,
      op: summary('unknown-1'),
      owner: 'o',
      leaseUntil: Date.now() + 60_000,
      now: Date.now(),
      keepForMs: 600_000,
    });
    await store.putChunk(
      key,
      'o',
      1,
      { state: 'UNKNOWN', upstreamRequestId: 'unknown-1', at: 1 },
      {
        leaseUntil: 0,
        keepForMs: 600_000,
        completeTtlMs: 600_000,
      },
    );
    const before = await store.get(key);
    const detail = await get(`/__ui/operations/${key}`);
    const token = /name="token" value="([^"]+)"/.exec(detail.text)?.[1] ?? '';
    const res = await fetch(`${base}/__ui/operations/${key}/reconcile`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: `token=${encodeURIComponent(token)}`,
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain('GetCouponPage failed (ServiceUnavailable): nothing was recorded or sent');
    expect(lookups).toBe(1);
    expect(await store.get(key)).toEqual(before);
    expect(text).not.toContain('1918000000883');
  });

  it('shows where a resent coupon went, linked to the operation it went out under', async () => {
    current = deps();
    const key = keyOf('1001', 'app', 'resent-1');
    await store.claim(key, {
      hash: 'h',
      chunkSize: 50,
      op: summary('resent-1'),
      owner: 'o',
      leaseUntil: Date.now() + 60_000,
      now: Date.now(),
      keepForMs: 600_000,
    });
    const unknown = { state: 'UNKNOWN' as const, upstreamRequestId: 'resent-1', at: 1 };
    await store.putChunk(key, 'o', 1, unknown, { leaseUntil: 0, keepForMs: 600_000, completeTtlMs: 600_000 });
    await store.amendChunk(key, 1, { ...unknown, reconciled: [{ issued: false, resentAs: 'resent-1:r' }] }, Date.now());
    const page = await get(`/__ui/operations/${key}`);
    expect(page.text).toContain('reconciled: never issued');
    expect(page.text).toContain(
      `resent as <a href="/__ui/operations/${keyOf('1001', 'app', 'resent-1:r')}">resent-1:r</a>`,
    );
    expect(page.text).not.toContain('Reconcile the UNKNOWN recipients');
  });
});
