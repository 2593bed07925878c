/*
 * The operations page in a real browser (the system's Chromium, driven by playwright-core) against a real local
 * stack: what was just sent is listed, an UNKNOWN made by an emulator fault is reconciled from the page, axe finds
 * no serious or critical accessibility problem, and everything reads with JavaScript off.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, postJson, rid, startStack, type Stack } from '../helpers/stack.js';
import { CALLER_KEYS } from '../helpers/caller.js';
import { startRedis } from '../helpers/redis.js';
import { launchChromium } from './browser.js';

const UID = '1918000000883';
const OTHER_UID = '1918000000999';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({
      SELLER_ID: '1001',
      DAILY_BUDGET: '1000',
      UPSTREAM_TIMEOUT_MS: '800',
      RECONCILE_SETTLE_SECONDS: '0',
    }),
    launchChromium(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const send = (requestId: string, uid = UID, amount = 5) =>
  postJson(`${stack.gateway}/coupons`, {
    TemplateId: '2001',
    RequestId: requestId,
    FromApp: 'ui-e2e',
    userAmountModelList: [{ uid, amount }],
  });

async function open(path: string, javaScriptEnabled = true): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled });
  const page = await context.newPage();
  // A step that cannot happen fails in seconds, with what it waited for, rather than at the test's timeout.
  page.setDefaultTimeout(10_000);
  await page.goto(`${stack.gateway}${path}`);
  return page;
}

/** Violations axe rates serious or critical, with where they are, for a readable failure. */
async function seriousViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('the operations page in Chromium', () => {
  it('lists an operation just sent, newest first, and shows its recipients, chunks, budget and ledger', async () => {
    const older = rid('page-older');
    const id = rid('page-sent');
    expect((await send(older, OTHER_UID, 2)).json.Success).toBe(true);
    const answer = await send(id);
    expect(answer.json.userAmountModelList[0].status).toBe('SENT');
    const youhuiId = String(answer.json.userAmountModelList[0].youhuiId);

    const page = await open('/__ui');
    const operations = page.getByRole('table', { name: 'Operations, newest first' });
    const links = await operations.getByRole('rowheader').allTextContents();
    expect(links.indexOf(id)).toBeGreaterThanOrEqual(0);
    expect(links.indexOf(id)).toBeLessThan(links.indexOf(older));
    const budget = page.getByRole('table', { name: /Today's budget per seller/ });
    await expect.poll(() => budget.getByRole('row', { name: /1001/ }).textContent()).toMatch(/1000\.00/);
    await expect
      .poll(() => page.getByRole('table', { name: /Coupons the local emulator issued/ }).textContent())
      .toContain(youhuiId);

    await operations.getByRole('link', { name: id }).click();
    await page.waitForURL(/\/__ui\/operations\/[0-9a-f]{64}$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Operation ${id}`);
    const recipients = page.getByRole('table', { name: /Recipients in request order/ });
    expect(await recipients.textContent()).toContain('1918******883');
    expect(await recipients.textContent()).toContain(youhuiId);
    expect(await page.getByRole('table', { name: /SendCoupon calls/ }).textContent()).toContain(id);
    expect(await page.content()).not.toContain(UID);

    // Filtered by RequestId and by state, through the form as a person would.
    await page.goto(`${stack.gateway}/__ui`);
    await page.getByLabel('RequestId starts with').fill(id);
    await page.getByLabel('State').selectOption('COMPLETED');
    await page.getByRole('button', { name: 'Show operations' }).click();
    await page.waitForURL(/state=COMPLETED/);
    expect(
      await page.getByRole('table', { name: 'Operations, newest first' }).getByRole('rowheader').allTextContents(),
    ).toEqual([id]);
    await page.context().close();
  });

  it('reconciles an UNKNOWN recipient from the page and shows what it found', async () => {
    await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 3000 });
    const id = rid('page-unknown');
    const answer = await send(id);
    expect(answer.json.userAmountModelList[0].status).toBe('UNKNOWN');
    // Past the upstream timeout (800 ms) with no settle window: GetCouponPage may now conclude.
    await new Promise((r) => setTimeout(r, 1000));

    const page = await open('/__ui?state=UNKNOWN');
    await page.getByRole('link', { name: id }).click();
    const recipients = page.getByRole('table', { name: /Recipients in request order/ });
    expect(await recipients.getByRole('row').nth(1).textContent()).toContain('UNKNOWN');
    await page.getByRole('button', { name: 'Reconcile the UNKNOWN recipients' }).click();

    const found = page.getByRole('region', { name: 'What reconcile found' });
    await expect.poll(() => found.textContent()).toContain('coupon found and attributed to this operation');
    expect(await found.textContent()).toContain('Nothing was sent');
    expect(await recipients.getByRole('row').nth(1).textContent()).toMatch(/SENT[\s\S]*reconciled: issued/);
    expect(await page.getByRole('button', { name: 'Reconcile the UNKNOWN recipients' }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.content()).not.toContain(UID);
    await page.context().close();
  });

  it('has no serious or critical accessibility violations (axe) on the list, an operation and a problem page', async () => {
    const id = rid('page-axe');
    await send(id);
    const page = await open('/__ui');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('link', { name: id }).click();
    await page.waitForURL(/operations/);
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(`${stack.gateway}/__ui?state=NOPE`);
    expect(await seriousViolations(page)).toEqual([]);
    // Keyboard: the first Tab reaches the skip link, which moves focus to the main content.
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Skip to content');
    await page.context().close();
  });

  it('reads with JavaScript disabled: the list, the filters and one operation', async () => {
    const id = rid('page-nojs');
    await send(id);
    const page = await open(`/__ui?requestId=${id}`, false);
    const operations = page.getByRole('table', { name: 'Operations, newest first' });
    expect(await operations.getByRole('rowheader').allTextContents()).toEqual([id]);
    await operations.getByRole('link', { name: id }).click();
    await page.waitForURL(/operations/);
    expect(await page.getByRole('table', { name: /Recipients in request order/ }).textContent()).toContain('SENT');
    await page.context().close();
  });

  it('refuses a reconcile posted from another origin, or without the page token', async () => {
    const id = rid('page-csrf');
    await send(id);
    const page = await open(`/__ui?requestId=${id}`);
    const href = await page.getByRole('link', { name: id }).getAttribute('href');
    await page.context().close();
    const action = `${stack.gateway}${href}/reconcile`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const foreign = await fetch(action, { method: 'POST', headers: { ...form, origin: 'http://evil.test' }, body: '' });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('not from this page');
    const tokenless = await fetch(action, { method: 'POST', headers: { ...form, origin: stack.gateway }, body: '' });
    expect(tokenless.status).toBe(403);
    expect(await tokenless.text()).toContain('no valid token');
    const forged = await fetch(action, {
      method: 'POST',
      headers: { ...form, origin: stack.gateway },
      body: `token=${Date.now()}.${'A'.repeat(43)}`,
    });
    expect(forged.status).toBe(403);
  });

  it('answers a bad filter with a 400 naming the field, and an unknown operation with a 404', async () => {
    const bad = await fetch(`${stack.gateway}/__ui?requestId=${encodeURIComponent('<script>')}`);
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toContain('requestId must be');
    expect(text).not.toContain('<script>');
    expect((await fetch(`${stack.gateway}/__ui/operations/${'0'.repeat(64)}`)).status).toBe(404);
  });
});

describe('the operations page on a Redis store', () => {
  it('lists from the Redis indexes and shows the budget the Redis ledger counted', async () => {
    const redis = await startRedis();
    const onRedis = await startStack({ IDEMPOTENCY_STORE: redis.url, SELLER_ID: '1001', DAILY_BUDGET: '1000' });
    try {
      const id = rid('page-redis');
      const answer = await postJson(`${onRedis.gateway}/coupons`, {
        TemplateId: '2001',
        RequestId: id,
        FromApp: 'ui-e2e',
        userAmountModelList: [{ uid: UID, amount: 7 }],
      });
      expect(answer.json.Success).toBe(true);
      const page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(10_000);
      await page.goto(`${onRedis.gateway}/__ui?state=COMPLETED&requestId=${id}`);
      const operations = page.getByRole('table', { name: 'Operations, newest first' });
      expect(await operations.getByRole('rowheader').allTextContents()).toEqual([id]);
      const budget = page.getByRole('table', { name: /Today's budget per seller/ });
      expect(await budget.getByRole('row', { name: /1001/ }).textContent()).toMatch(/7\.00[\s\S]*993\.00/);
      await operations.getByRole('link', { name: id }).click();
      expect(await page.getByRole('table', { name: /Recipients in request order/ }).textContent()).toContain('SENT');
      await page.context().close();
    } finally {
      await onRedis.stop();
      await redis.stop();
    }
  });
});

describe('the browser tests without Chromium', () => {
  it('fail with a message that says what is missing and how to install it', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(
      /need Chromium at \/nonexistent\/chromium, and there is none: install it \(apt-get install chromium\)/,
    );
  });
});

describe('the operations page with LOCAL_AUTH=function', () => {
  it('is refused without the caller check every other request passes', async () => {
    const guarded = await startStack({ LOCAL_AUTH: 'function', LOCAL_CALLER_KEYS: CALLER_KEYS });
    try {
      const res = await fetch(`${guarded.gateway}/__ui`);
      expect(res.status).toBeGreaterThanOrEqual(401);
      expect(res.status).toBeLessThanOrEqual(403);
      expect(await res.text()).not.toContain('<html');
    } finally {
      await guarded.stop();
    }
  });
});
