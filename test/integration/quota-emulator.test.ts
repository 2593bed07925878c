/** What the emulator reports of the quota it enforces: one bucket for every caller, and what it saw. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../../lib/http/transport.js';
import { createResellerTradeClient } from '../../lib/resellertrade/client.js';
import { buildSendCouponForm } from '../../lib/resellertrade/form.js';
import { startEmulator, type Emulator } from '../../local/emulator/server.js';
import { operation, recipient } from '../fixtures/operations.js';

const creds = { accessKeyId: 'quota-key', accessKeySecret: 'quota-secret' };
let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ ...creds, qps: 5 });
});
afterAll(async () => {
  await emulator.close();
});

interface Stats {
  maxCallsInAnySecond: number;
  byRequestId?: Record<string, { calls: number; accepted: number; throttled: number }>;
}
const stats = async (query = '') => (await (await fetch(`${emulator.url}/__emulator/stats${query}`)).json()) as Stats;
const op = operation({ recipients: [recipient('1918000000883', 1)] });

describe('emulator stats', () => {
  it('counts every SendCoupon of every caller against one quota, and the busiest second; reset clears them', async () => {
    // Two callers with their own connections: the quota is one for both.
    const callers = [0, 1].map(() => createResellerTradeClient(new URL(emulator.url), createHttpTransport()));
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        callers[i % 2]!.call('SendCoupon', buildSendCouponForm(op, op.recipients, `stats-${i % 3}`), creds, 2000),
      ),
    );
    const throttled = outcomes.filter((o) => o.outcome.kind === 'rejected' && o.outcome.code === 'Throttling.User');
    expect(throttled).toHaveLength(3);
    expect(await stats()).toEqual({
      calls: 8,
      sendCoupon: 8,
      accepted: 5,
      throttled: 3,
      rejected: 0,
      faults: 0,
      maxCallsInAnySecond: 8,
    });
    const by = (await stats('?byRequestId=1')).byRequestId ?? {};
    expect(Object.values(by).reduce((n, r) => n + r.calls, 0)).toBe(8);
    expect(by['stats-0']).toMatchObject({ calls: 3 });
    expect((by['stats-1']?.accepted ?? 0) + (by['stats-1']?.throttled ?? 0)).toBe(3);

    expect((await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' })).status).toBe(200);
    expect(await stats('?byRequestId=1')).toEqual({
      calls: 0,
      sendCoupon: 0,
      accepted: 0,
      throttled: 0,
      rejected: 0,
      faults: 0,
      maxCallsInAnySecond: 0,
      byRequestId: {},
    });
    // The bucket is full again after a reset.
    const again = await callers[0]!.call('SendCoupon', buildSendCouponForm(op, op.recipients, 'after'), creds, 2000);
    expect(again.outcome.kind).toBe('ok');
  });

  it('counts the busiest second only: calls more than a second apart are not added up', async () => {
    await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
    const client = createResellerTradeClient(new URL(emulator.url), createHttpTransport());
    const send = (i: number) =>
      client.call('SendCoupon', buildSendCouponForm(op, op.recipients, `w-${i}`), creds, 2000);
    for (let i = 0; i < 3; i++) await send(i);
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 3; i < 5; i++) await send(i);
    expect((await stats()).maxCallsInAnySecond).toBe(3);
  });
});
