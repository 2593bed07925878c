import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResellerTradeClient } from '../../lib/resellertrade/client.js';
import { getCouponPage } from '../../lib/resellertrade/coupon-page.js';
import { buildSendCouponForm } from '../../lib/resellertrade/form.js';
import { createHttpTransport } from '../../lib/http/transport.js';
import { startEmulator, type Emulator } from '../../local/emulator/server.js';
import type { Operation } from '../../lib/operation.js';
import { recipient } from '../fixtures/operations.js';

const creds = { accessKeyId: 'STS.client', accessKeySecret: 'client-secret', securityToken: 'client-token' };
let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ ...creds, firstYouhuiId: 12345678901234567890n });
});
afterAll(async () => {
  await emulator.close();
});

const op: Operation = {
  sellerId: { digits: '3944837183', kind: 'number' },
  templateId: { digits: '295873', kind: 'number' },
  requestId: 'client-1',
  fromApp: 'client-app',
  form: 'flat',
  recipients: [recipient('1918000000883', 3, 'number')],
};

describe('our ResellerTrade client against the emulator', () => {
  const client = () => createResellerTradeClient(new URL(emulator.url), createHttpTransport());

  it('sends SendCoupon and reads the coupon back with GetCouponPage, ids exact', async () => {
    const sent = await client().call('SendCoupon', buildSendCouponForm(op, op.recipients, 'client-1'), creds, 2000);
    expect(sent.outcome).toMatchObject({
      kind: 'ok',
      items: [{ uid: '1918000000883', youhuiId: { text: '12345678901234567890', kind: 'number' } }],
    });
    const page = await getCouponPage(
      client(),
      { sellerId: '3944837183', templateId: '295873', uids: ['1918000000883'] },
      creds,
      2000,
    );
    expect(page).toEqual({
      ok: true,
      total: 1,
      coupons: [{ youhuiId: '12345678901234567890', uid: '1918000000883', templateId: '295873', amount: 3 }],
    });
  });

  it('reports a refused connection as never sent (safe to retry)', async () => {
    const closed = createResellerTradeClient(new URL('http://127.0.0.1:9'), createHttpTransport());
    const res = await closed.call('SendCoupon', 'x=1', creds, 500);
    expect(res.outcome).toMatchObject({ kind: 'rejected', retry: 'connection' });
  });

  it('reports an invalid security token as refused', async () => {
    const res = await client().call(
      'SendCoupon',
      buildSendCouponForm(op, op.recipients, 'client-2'),
      { ...creds, securityToken: 'other' },
      2000,
    );
    expect(res.outcome).toMatchObject({
      kind: 'rejected',
      blame: 'caller',
      code: 'InvalidSecurityToken.MismatchWithAccessKey',
    });
  });
});
