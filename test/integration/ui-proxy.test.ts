/*
 * `coupon ui`'s signing proxy in front of a page behind `function` auth: the local stack with LOCAL_AUTH=function
 * checks every caller's ACS3 signature as FC's trigger does. Through the proxy the page reads and reconciles;
 * without it the page is refused; a form posted to the proxy from another origin is refused before it is signed.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiProxy, type UiProxy } from '../../cli/ui.js';
import { CALLER, CALLER_KEYS, signedPost } from '../helpers/caller.js';
import { fault, ledger, rid, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let proxy: UiProxy;
beforeAll(async () => {
  stack = await startStack({
    LOCAL_AUTH: 'function',
    LOCAL_CALLER_KEYS: CALLER_KEYS,
    UPSTREAM_TIMEOUT_MS: '800',
    RECONCILE_SETTLE_SECONDS: '0',
  });
  proxy = await startUiProxy(new URL(stack.gateway), CALLER);
});
afterAll(async () => {
  await proxy?.close();
  await stack?.stop();
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('coupon ui (the signing proxy)', () => {
  it('shows the page that refuses an unsigned browser, passes nothing but /__ui, and answers only under its own name', async () => {
    expect([401, 403]).toContain((await fetch(`${stack.gateway}/__ui`)).status);
    const page = await fetch(proxy.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('<h1');
    expect((await fetch(new URL('/coupons', proxy.url))).status).toBe(404);
    // Reached under another name (DNS rebinding): refused, nothing signed.
    const port = new URL(proxy.url).port;
    const rebound = await new Promise<number>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path: '/__ui', headers: { host: `evil.test:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject),
    );
    expect(rebound).toBe(421);
  });

  it('reconciles an UNKNOWN posted from its own origin, and refuses a post from elsewhere before signing it', async () => {
    const requestId = rid('ui-proxy');
    await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 3000 });
    const sent = await signedPost(
      `${stack.gateway}/coupons`,
      JSON.stringify({
        SellerId: 3944837183,
        TemplateId: 295873,
        FromApp: 'proxy-app',
        RequestId: requestId,
        userAmountModelList: [{ uid: '1918000000883', amount: 5 }],
      }),
    );
    expect(await sent.text()).toContain('"UNKNOWN"');
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const list = await (await fetch(`${proxy.url}?requestId=${requestId}`)).text();
    const href = /href="(\/__ui\/operations\/[0-9a-f]{64})"/.exec(list)?.[1] ?? '';
    const detail = await (await fetch(new URL(href, proxy.url))).text();
    const token = /name="token" value="([^"]+)"/.exec(detail)?.[1] ?? '';
    const action = new URL(`${href}/reconcile`, proxy.url);
    const body = `token=${encodeURIComponent(token)}`;

    const foreign = await fetch(action, { method: 'POST', headers: { ...FORM, origin: 'http://evil.test' }, body });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('not from this page');
    const unnamed = await fetch(action, { method: 'POST', headers: FORM, body });
    expect(unnamed.status).toBe(403);

    const own = new URL(proxy.url).origin;
    const reconciled = await fetch(action, { method: 'POST', headers: { ...FORM, origin: own }, body });
    expect(reconciled.status).toBe(200);
    expect(await reconciled.text()).toMatch(/Nothing was sent\.[\s\S]*SENT[\s\S]*reconciled: issued/);
    expect((await ledger(stack)).filter((c) => c.requestId === requestId)).toHaveLength(1);
  });
});
