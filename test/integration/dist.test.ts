import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAll } from '../../scripts/build.js';
import { cloudEvent, timerEvent } from '../fixtures/requests.js';
import { startRedis, TEST_CA_FILE } from '../helpers/redis.js';
import { httpEvent, invoke, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs one bundle in a plain `node` process (no tsx, no vitest): what FC's nodejs20 runtime does. */
function runEntry(dir: string, fn: string, event: unknown, env: Record<string, string> = {}) {
  const script = `
    // As on a Node 20 older than 20.16, which has no process.getBuiltinModule.
    if (process.env.NO_GET_BUILTIN_MODULE) delete process.getBuiltinModule;
    const { handler, codeCache } = await import(${JSON.stringify(`${dir}/index.mjs`)});
    const out = await handler(Buffer.from(process.env.EVENT), { requestId: '1-plain-node', credentials: {}, function: { name: '${fn}', timeout: 10 } });
    process.stdout.write('CACHE ' + codeCache + '\\nRESULT ' + (typeof out === 'string' ? out : JSON.stringify(out)) + '\\n');
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env['PATH'] ?? '', EVENT: JSON.stringify(event), ...env },
    encoding: 'utf8',
  });
  const field = (name: string) =>
    out
      .split('\n')
      .find((l) => l.startsWith(`${name} `))
      ?.slice(name.length + 1) ?? '';
  const started = out.split('\n').find((l) => l.includes('"msg":"instance started"'));
  return { result: field('RESULT'), codeCache: field('CACHE'), started: started && (JSON.parse(started) as object) };
}

const runBundle = (fn: string, event: unknown, env: Record<string, string> = {}): string =>
  runEntry(`${root}dist/${fn}`, fn, event, env).result;

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

  it('start from the V8 code cache the build made, and without it when it is missing, made elsewhere or not the build’s', () => {
    const healthz = httpEvent('/healthz', '', { method: 'GET' });
    const plain = runEntry(`${root}dist/coupon-http`, 'coupon-http', healthz);
    expect(plain.codeCache).toBe('accepted');
    expect(plain.started).toMatchObject({ level: 'info', node: process.version, codeCache: 'accepted' });
    // Started as FC's older Node runtimes start node for this 256 MB function: the cache trained under those flags.
    const fcFlags = runEntry(`${root}dist/coupon-http`, 'coupon-http', healthz, {
      NODE_OPTIONS: '--max-old-space-size=230 --expose-gc',
    });
    expect(fcFlags.codeCache).toBe('accepted');
    expect(JSON.parse(fcFlags.result).body).toBe('{"status":"ok"}');
    const olderNode = runEntry(`${root}dist/coupon-http`, 'coupon-http', healthz, { NO_GET_BUILTIN_MODULE: '1' });
    expect(JSON.parse(olderNode.result).body).toBe('{"status":"ok"}');
    const copy = mkdtempSync(join(tmpdir(), 'code-cache-'));
    try {
      cpSync(`${root}dist/coupon-http`, copy, { recursive: true });
      // A cache made under other V8 flags (as FC's --max-old-space-size) is refused by V8; the bundle compiles as usual.
      const rejected = runEntry(copy, 'coupon-http', healthz, { NODE_OPTIONS: '--max-old-space-size=300' });
      expect(rejected.codeCache).toBe('rejected');
      expect(rejected.started).toMatchObject({
        codeCache: 'rejected',
        nodeFlags: '--input-type=module --max-old-space-size=300',
      });
      expect(JSON.parse(rejected.result).body).toBe('{"status":"ok"}');
      // A bundle edited after the build, same length: V8 would run the cache's old bytecode; the loader refuses it.
      const bundle = readFileSync(`${copy}/bundle.cjs`, 'latin1');
      expect(bundle).toContain(`'{"status":"ok"}'`);
      writeFileSync(`${copy}/bundle.cjs`, bundle.replace(`'{"status":"ok"}'`, `'{"status":"OK"}'`), 'latin1');
      const edited = runEntry(copy, 'coupon-http', healthz);
      expect(edited.codeCache).toBe('mismatch');
      expect(edited.started).toMatchObject({ codeCache: 'mismatch' });
      expect(JSON.parse(edited.result).body).toBe('{"status":"OK"}');
      writeFileSync(`${copy}/bundle.cjs`, bundle, 'latin1');
      // One flipped bit in the cache: refused before V8 sees it, never a crash or a wrong answer.
      const cache = readFileSync(`${copy}/bundle.cache`);
      cache[cache.length >> 1] = (cache[cache.length >> 1] ?? 0) ^ 0x04;
      writeFileSync(`${copy}/bundle.cache`, cache);
      const flipped = runEntry(copy, 'coupon-http', healthz);
      expect(flipped.codeCache).toBe('mismatch');
      expect(JSON.parse(flipped.result).body).toBe('{"status":"ok"}');
      rmSync(`${copy}/bundle.cache`);
      const absent = runEntry(copy, 'coupon-http', healthz);
      expect(absent.codeCache).toBe('absent');
      expect(JSON.parse(absent.result).body).toBe('{"status":"ok"}');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
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

  it('reach Redis over TLS (rediss://) trusting the CA that NODE_EXTRA_CA_CERTS names, and send nothing when it is untrusted', async () => {
    const redis = await startRedis({ tls: true });
    const send = async (stack: Stack, id: string) =>
      postJson(`${stack.gateway}/coupons`, {
        SellerId: 3944837183,
        TemplateId: 295873,
        FromApp: 'dist-app',
        RequestId: rid(id),
        userAmountModelList: [{ uid: 105, amount: 5 }],
      });
    const trusted = await startStack({
      LOCAL_FUNCTIONS: 'dist',
      IDEMPOTENCY_STORE: redis.url,
      NODE_EXTRA_CA_CERTS: TEST_CA_FILE,
    });
    const untrusted = await startStack({
      LOCAL_FUNCTIONS: 'dist',
      IDEMPOTENCY_STORE: redis.url,
      NODE_EXTRA_CA_CERTS: '',
    });
    try {
      expect((await send(trusted, 'dist-rediss')).status).toBe(200);
      expect(await ledger(trusted)).toHaveLength(1);
      const refused = await send(untrusted, 'dist-rediss-untrusted');
      expect(refused.status).toBe(503);
      expect(await ledger(untrusted)).toHaveLength(0);
    } finally {
      await Promise.all([trusted.stop(), untrusted.stop()]);
      await redis.stop();
    }
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
