/**
 * `npx tsx scripts/screenshot-ui.ts [out.png]`: docs/operations-page.png, the operations page of a fresh local
 * stack holding three operations: one COMPLETED, one with an UNKNOWN recipient, and one whose UNKNOWN recipient
 * was reconciled from the page. Needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/e2e/browser.js';
import { fault, postJson, startStack } from '../test/helpers/stack.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/operations-page.png', import.meta.url));

const stack = await startStack({
  SELLER_ID: '1001',
  DAILY_BUDGET: '1000',
  UPSTREAM_TIMEOUT_MS: '800',
  RECONCILE_SETTLE_SECONDS: '0',
});
const browser = await launchChromium();
try {
  const send = (requestId: string, list: Array<[string, number]>) =>
    postJson(`${stack.gateway}/coupons`, {
      TemplateId: '2001',
      RequestId: requestId,
      FromApp: 'crm',
      userAmountModelList: list.map(([uid, amount]) => ({ uid, amount })),
    });
  await send('spring-sale-0001', [
    ['1918000000883', 20],
    ['1918000001204', 20],
    ['1918000007731', 20],
  ]);
  await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 3000 });
  await send('vip-bonus-0002', [['1918000004410', 50]]);
  await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 3000 });
  await send('winback-0003', [['1918000009152', 15]]);
  await new Promise((r) => setTimeout(r, 1000));

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
  await page.goto(`${stack.gateway}/__ui`);
  await page.getByRole('link', { name: 'vip-bonus-0002' }).click();
  await page.getByRole('button', { name: 'Reconcile the UNKNOWN recipients' }).click();
  await page.getByRole('region', { name: 'What reconcile found' }).waitFor();
  await page.goto(`${stack.gateway}/__ui`);
  await page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await browser.close();
  await stack.stop();
}
