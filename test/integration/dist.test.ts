import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAll } from '../../scripts/build.js';
import { cloudEvent, timerEvent } from '../fixtures/requests.js';
import { startRedis } from '../helpers/redis.js';
import { httpEvent, invoke, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs one bundle in a plain `node` process (no tsx, no vitest): what FC's nodejs20 runtime does. */
function runBundle(fn: string, event: unknown, env: Record<string, string> = {}): string {
  const script = `
    const { handler } = await import(${JSON.stringify(`${root}dist/${fn}/index.mjs`)});
    const out = await handler(Buffer.from(process.env.EVENT), { requestId: '1-plain-node', credentials: {}, function: { name: '${fn}', timeout: 10 } });
    process.stdout.write('RESULT ' + (typeof out === 'string' ? out : JSON.stringify(out)) + '\\n');
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env['PATH'] ?? '', EVENT: JSON.stringify(event), ...env },
    encoding: 'utf8',
  });
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  return line?.slice('RESULT '.length) ?? '';
}

let stack: Stack;
beforeAll(async () => {
  await buildAll();
  stack = await startStack({ LOCAL_FUNCTIONS: 'dist' });
});
afterAll(async () => {
  await stack?.stop();
});

describe('the built dist/ bundles', () => {
  it('load in plain Node and answer an invocation', () => {
    expect(JSON.parse(runBundle('coupon-http', httpEvent('/healthz', '', { method: 'GET' }))).body).toBe(
      '{"status":"ok"}',
    );
    const invalid = JSON.parse(runBundle('coupon-event', cloudEvent('e', { TemplateId: 1 })));
    expect(invalid).toMatchObject({ Success: false, Code: 'InvalidParameter' });
    const timer = JSON.parse(runBundle('coupon-timer', timerEvent('{"bad json')));
    expect(timer).toMatchObject({ Success: false, Code: 'InvalidJson' });
  });

  it('refuse the in-memory store when deployed, naming the variable', () => {
    const out = JSON.parse(
      runBundle('coupon-http', httpEvent('/healthz', '', { method: 'GET' }), {
        FC_FUNCTION_NAME: 'coupon-http',
        FC_REGION: 'cn-hangzhou',
      }),
    );
    expect(out.statusCode).toBe(500);
    expect(JSON.parse(out.body)).toMatchObject({
      Code: 'InvalidConfiguration',
      Message: expect.stringContaining('IDEMPOTENCY_STORE'),
    });
  });

  it('issue coupons through every trigger behind the local gateway', async () => {
    const base = { SellerId: 3944837183, TemplateId: 295873, FromApp: 'dist-app' };
    expect(
      (
        await postJson(`${stack.gateway}/coupons`, {
          ...base,
          RequestId: rid('dist'),
          userAmountModelList: [{ uid: 101, amount: 1 }],
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await invoke(
          stack,
          'coupon-event',
          cloudEvent(rid('dist'), { ...base, userAmountModelList: [{ uid: 102, amount: 2 }] }),
        )
      ).json,
    ).toMatchObject({ Success: true });
    expect(
      (await invoke(stack, 'coupon-timer', timerEvent({ ...base, userAmountModelList: [{ uid: 103, amount: 3 }] })))
        .json,
    ).toMatchObject({ Success: true });
    expect((await ledger(stack)).map((c) => [c.uid, c.amount])).toEqual([
      ['101', 1],
      ['102', 2],
      ['103', 3],
    ]);
  });

  it('share one store across separately bundled functions: the same operation by HTTP and as an event issues once', async () => {
    const body = {
      SellerId: 3944837183,
      TemplateId: 295873,
      FromApp: 'dist-app',
      RequestId: rid('dist-shared'),
      userAmountModelList: [{ uid: '9007199254740993', amount: 5 }],
    };
    const http = await postJson(`${stack.gateway}/coupons`, body);
    expect(http.text).toContain('"uid":"9007199254740993"');
    const event = await invoke(stack, 'coupon-event', body);
    expect(event.json).toMatchObject({
      Success: true,
      userAmountModelList: [{ uid: '9007199254740993', status: 'SENT' }],
    });
    expect((await ledger(stack)).filter((c) => c.requestId === body.RequestId).map((c) => c.uid)).toEqual([
      '9007199254740993',
    ]);
  });

  it('work with the Redis store (its small client bundled)', async () => {
    const redis = await startRedis();
    const withRedis = await startStack({ LOCAL_FUNCTIONS: 'dist', IDEMPOTENCY_STORE: redis.url });
    try {
      const body = {
        SellerId: 3944837183,
        TemplateId: 295873,
        FromApp: 'dist-app',
        RequestId: rid('dist-redis'),
        userAmountModelList: [{ uid: 104, amount: 4 }],
      };
      expect((await postJson(`${withRedis.gateway}/coupons`, body)).status).toBe(200);
      const again = await postJson(`${withRedis.gateway}/coupons`, body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await ledger(withRedis)).toHaveLength(1);
    } finally {
      await withRedis.stop();
      await redis.stop();
    }
  });
});
