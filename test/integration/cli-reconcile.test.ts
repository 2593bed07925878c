import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coupon } from '../helpers/cli.js';
import { startHeldUpstream, type HeldUpstream } from '../helpers/held-upstream.js';
import { ledger, rid, startStack, type Stack } from '../helpers/stack.js';

/*
 * A slow upstream, not a lost one: every SendCoupon is held HOLD_MS before it reaches the emulator, while the
 * function gives up after UPSTREAM_TIMEOUT_MS. The coupon appears after the operation was recorded UNKNOWN.
 * Whatever order reconcile and --resend run in, the recipient must end with exactly one coupon.
 */
// Long enough that the late coupon cannot land before the first reconcile, however loaded the machine.
const HOLD_MS = 6000;
const TIMEOUT_MS = '500';

let upstream: Stack;
let held: HeldUpstream;
let stack: Stack;
beforeAll(async () => {
  upstream = await startStack();
  held = await startHeldUpstream(upstream.emulator, HOLD_MS);
  stack = await startStack({ RESELLERTRADE_ENDPOINT: held.url, UPSTREAM_TIMEOUT_MS: TIMEOUT_MS });
});
afterAll(async () => {
  await stack.stop();
  await held.close();
  await upstream.stop();
});

/** The CLI against this stack's store and target, with GetCouponPage asked of the real emulator. */
const cli = (args: string[], settleSeconds: string) =>
  coupon({ gateway: stack.gateway, emulator: upstream.emulator }, args, {
    UPSTREAM_TIMEOUT_MS: TIMEOUT_MS,
    RECONCILE_SETTLE_SECONDS: settleSeconds,
  });
const send = (id: string, uid: string) =>
  cli(
    [
      'send',
      '--request-id',
      id,
      '--template',
      '295873',
      '--seller',
      '3944837183',
      '--from-app',
      'slow',
      '--uid',
      `${uid}:5`,
    ],
    '0',
  );
const coupons = async (id: string) => (await ledger(upstream)).filter((c) => c.requestId.startsWith(id));
const until = async (check: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 100));
};

describe('coupon reconcile against a slow upstream', () => {
  it('resend at once: refused while the call may still act, then the late coupon is attributed; one coupon', async () => {
    const id = rid('slow-at-once');
    const first = await send(id, '1918000000901');
    expect(first.code).toBe(3);
    expect(await coupons(id)).toHaveLength(0);

    // Within the upstream timeout + settle window: nothing is concluded and nothing is sent.
    const early = await cli(['reconcile', '--request-id', id, '--resend', '--json'], '2');
    expect(early.code).toBe(3);
    const report = JSON.parse(early.stdout) as { reconciled: Array<Record<string, string>> };
    expect(report.reconciled).toEqual([
      expect.objectContaining({
        was: 'UNKNOWN',
        status: 'UNKNOWN',
        settlesAt: expect.any(String),
        finding: expect.stringContaining(`run coupon reconcile --request-id ${id} again after`),
      }),
    ]);

    // The held call reaches the upstream and issues its coupon; the window passes.
    await until(async () => (await coupons(id)).length > 0);
    await until(() => Date.now() > Date.parse(report.reconciled[0]?.['settlesAt'] ?? ''));
    const later = await cli(['reconcile', '--request-id', id, '--resend', '--json'], '2');
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ reconciled: [{ status: 'SENT', youhuiId: expect.any(String) }] });
    expect(await coupons(id)).toHaveLength(1);
  });

  it('reconcile, then resend: --resend asks GetCouponPage again and finds the late coupon; one coupon', async () => {
    const id = rid('slow-then');
    expect((await send(id, '1918000000902')).code).toBe(3);
    // A settle window set (wrongly) shorter than the upstream's delay: reconcile finds nothing yet.
    await new Promise((r) => setTimeout(r, Number(TIMEOUT_MS) + 100));
    const found = await cli(['reconcile', '--request-id', id, '--json'], '0');
    expect(found.code).toBe(1);
    expect(JSON.parse(found.stdout)).toMatchObject({ reconciled: [{ status: 'FAILED' }] });

    // The held call lands afterwards; --resend must not trust the stored finding.
    await until(async () => (await coupons(id)).length > 0);
    const resent = await cli(['reconcile', '--request-id', id, '--resend', '--json'], '0');
    expect(resent.code).toBe(0);
    const body = JSON.parse(resent.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ reconciled: [{ was: 'FAILED', status: 'SENT', youhuiId: expect.any(String) }] });
    expect(body['resent']).toBeUndefined();
    expect(await coupons(id)).toHaveLength(1);
    const status = await cli(['status', '--request-id', id, '--json'], '0');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ recipients: [{ status: 'SENT' }] });
  });
});
