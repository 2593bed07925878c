/**
 * A producer's path on the local stack, as deployed: EventBridge PutEvents on the custom bus (made with Alibaba's
 * own EventBridge SDK, and with `coupon publish`), the rule the ROS template defines, coupon-event invoked
 * asynchronously, one coupon however often the event is published.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPutEvents } from '../../lib/acs/eventbridge.js';
import { CALLER, CALLER_KEYS } from '../helpers/caller.js';
import { coupon } from '../helpers/cli.js';
import { ledger, rid, startStack, type Stack } from '../helpers/stack.js';

// Alibaba's EventBridge SDK is CommonJS with its client as `default`.
const eb = createRequire(import.meta.url)('@alicloud/eventbridge') as typeof import('@alicloud/eventbridge');

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ LOCAL_AUTH: 'function', LOCAL_CALLER_KEYS: CALLER_KEYS });
});
afterAll(async () => {
  await stack?.stop();
});

const coupons = async (requestId: string) => (await ledger(stack)).filter((c) => c.requestId === requestId);

/** The asynchronous invocation has run when its coupon is in the ledger (or the time is up). */
async function settled(requestId: string, count: number): Promise<number> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    const n = (await coupons(requestId)).length;
    if (n >= count) return n;
    await new Promise((r) => setTimeout(r, 200));
  }
  return (await coupons(requestId)).length;
}

const sdkClient = () => {
  return new eb.default(
    new eb.Config({
      accessKeyId: CALLER.accessKeyId,
      accessKeySecret: CALLER.accessKeySecret,
      endpoint: new URL(stack.gateway).host,
      protocol: 'http',
    }),
  );
};

const sdkEvent = (id: string, source = 'acs.coupon.campaign', bus = 'coupon-sender') =>
  new eb.CloudEvent({
    id,
    source,
    type: 'coupon:Send',
    specversion: '1.0',
    datacontenttype: 'application/json; charset=utf-8',
    // The SDK re-reads data with JSON.parse: a producer writes ids as strings so that nothing is rounded.
    data: Buffer.from(
      JSON.stringify({
        SellerId: '3944837183',
        TemplateId: '295873',
        FromApp: 'producer',
        userAmountModelList: [{ uid: '1918000000883', amount: 5 }],
      }),
    ),
    extensions: { aliyuneventbusname: bus },
  });

describe('the event bus on the local stack', () => {
  it("routes a producer's PutEvents (Alibaba's EventBridge SDK) to coupon-event: one coupon, however often it is published", async () => {
    const id = rid('sdk');
    const client = sdkClient();
    const first = await client.putEvents([sdkEvent(id)]);
    expect(first).toMatchObject({ failedEntryCount: 0, entryList: [{ eventId: id }] });
    expect(await settled(`acs.coupon.campaign:${id}`, 1)).toBe(1);
    await client.putEvents([sdkEvent(id)]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await coupons(`acs.coupon.campaign:${id}`)).toHaveLength(1);
  });

  it('answers each event in its place: another bus fails, an unmatched source is accepted and goes nowhere', async () => {
    const ids = [rid('bus'), rid('other-bus'), rid('other-source')];
    const answer = (await sdkClient().putEvents([
      sdkEvent(ids[0] as string),
      sdkEvent(ids[1] as string, 'acs.coupon.campaign', 'no-such-bus'),
      sdkEvent(ids[2] as string, 'acs.somebody.else'),
    ])) as { failedEntryCount: number; entryList: Array<{ eventId: string; errorCode?: string }> };
    expect(answer.failedEntryCount).toBe(1);
    expect(answer.entryList.map((e) => e.errorCode)).toEqual([undefined, 'EventBusNotExist', undefined]);
    expect(await settled(`acs.coupon.campaign:${ids[0]}`, 1)).toBe(1);
    expect(await coupons(`acs.somebody.else:${ids[2]}`)).toHaveLength(0);
  });

  it.each([
    ['unsigned', {}, 401],
    ['signed with an unknown key', signPutEvents('h', { accessKeyId: 'nobody', accessKeySecret: 'x' }), 403],
    ['signed with a wrong secret', signPutEvents('h', { accessKeyId: CALLER.accessKeyId, accessKeySecret: 'x' }), 403],
    ['dated an hour ago', signPutEvents('h', CALLER, new Date(Date.now() - 3_600_000)), 403],
  ])('refuses a call %s, and delivers nothing', async (_label, headers, status) => {
    const id = rid('refused');
    const res = await fetch(`${stack.gateway}/openapi/putEvents`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json', ...headers },
      body: JSON.stringify([
        {
          specversion: '1.0',
          id,
          source: 'acs.coupon.campaign',
          type: 't',
          aliyuneventbusname: 'coupon-sender',
          data: {},
        },
      ]),
    });
    expect(res.status).toBe(status);
    await new Promise((r) => setTimeout(r, 300));
    expect(await coupons(`acs.coupon.campaign:${id}`)).toHaveLength(0);
  });

  it('refuses a replayed signature (same nonce) with 403', async () => {
    const headers = signPutEvents(new URL(stack.gateway).host, CALLER);
    const body = JSON.stringify([
      { specversion: '1.0', id: rid('n'), source: 'x', type: 't', aliyuneventbusname: 'coupon-sender' },
    ]);
    const post = () => fetch(`${stack.gateway}/openapi/putEvents`, { method: 'POST', headers, body });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(403);
  });

  it('coupon publish signs with LOCAL_CALLER_KEYS and publishes; the same --id again issues nothing more', async () => {
    const id = rid('cli');
    const args = [
      'publish',
      '--id',
      id,
      '--template',
      '295873',
      '--seller',
      '3944837183',
      '--from-app',
      'cli-producer',
      '--uid',
      '1918000000884:8.88',
    ];
    const env = { LOCAL_CALLER_KEYS: CALLER_KEYS };
    const first = await coupon(stack, args, env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`published event ${id} to bus coupon-sender`);
    expect(await settled(id, 1)).toBe(1);
    expect((await coupon(stack, args, env)).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    const issued = await coupons(id);
    expect(issued.map((c) => [c.uid, String(c.amount)])).toEqual([['1918000000884', '8.88']]);
  });

  it('coupon publish refuses a missing event id (exit 2) and an unreachable bus (exit 1), publishing nothing', async () => {
    expect((await coupon(stack, ['publish', '--template', '1', '--uid', '1:1'])).code).toBe(2);
    const down = await coupon({ ...stack, gateway: 'http://127.0.0.1:9' }, [
      'publish',
      '--id',
      'x',
      '--template',
      '1',
      '--uid',
      '1:1',
    ]);
    expect(down.code).toBe(1);
  });
});
