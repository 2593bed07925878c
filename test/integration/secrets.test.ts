/**
 * Nothing leaks: a stack configured with a secret everywhere one can be (emulator key and STS token, caller keys,
 * a Redis password) runs the scenarios that produce errors, and neither its answers nor any log line carry them.
 * (Every stack any test starts is scanned the same way when it stops: test/helpers/log-scan.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER, CALLER_KEYS, signedPost } from '../helpers/caller.js';
import { scanLogs, secretsOf } from '../helpers/log-scan.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { fault, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

const REDIS_PASSWORD = 'redis-pw-9f8e7d6c';
const env = (redis: RedisServer) => ({
  IDEMPOTENCY_STORE: redis.url,
  EMULATOR_ACCESS_KEY_ID: 'emu-key',
  EMULATOR_ACCESS_KEY_SECRET: 'emu-secret-5a4b3c2d',
  EMULATOR_SECURITY_TOKEN: 'emu-sts-token-1a2b3c4d',
  LOCAL_AUTH: 'function',
  LOCAL_CALLER_KEYS: CALLER_KEYS,
});

let redis: RedisServer;
let stack: Stack;
beforeAll(async () => {
  redis = await startRedis({ password: REDIS_PASSWORD });
  stack = await startStack(env(redis));
});
afterAll(async () => {
  await stack.stop();
  await redis.stop();
});

const body = (uid = 1918000000883) =>
  JSON.stringify({
    SellerId: 3944837183,
    TemplateId: 295873,
    RequestId: rid('secret'),
    FromApp: 'secrets',
    userAmountModelList: [{ uid, amount: 1 }],
  });

describe('nothing secret leaves', () => {
  it('through answers or logs, whatever goes wrong', async () => {
    const secrets = secretsOf(env(redis));
    expect(secrets).toEqual(
      expect.arrayContaining([REDIS_PASSWORD, CALLER.accessKeySecret, 'emu-secret-5a4b3c2d', 'emu-sts-token-1a2b3c4d']),
    );
    const answers: string[] = [];
    const keep = async (res: Response) => answers.push(await res.text());

    await keep(await signedPost(`${stack.gateway}/coupons`, body()));
    await keep(await signedPost(`${stack.gateway}/coupons`, body(), { ...CALLER, accessKeySecret: 'wrong-secret-x' }));
    await fault(stack, { mode: 'error', status: 503 });
    await keep(await signedPost(`${stack.gateway}/coupons`, body()));
    await fault(stack, { mode: 'throttle', code: 'InvalidSecurityToken.Expired' });
    await keep(await signedPost(`${stack.gateway}/coupons`, body()));
    await redis.stop();
    await keep(await signedPost(`${stack.gateway}/coupons`, body()));
    await redis.start();

    const broken = await startStack({ ...env(redis), IDEMPOTENCY_STORE: `redis:/:${REDIS_PASSWORD}@host` });
    try {
      answers.push((await postJson(`${broken.gateway}/coupons`, body())).text);
    } finally {
      await broken.stop().catch(() => undefined);
    }
    const all = [...answers, ...stack.logs, ...broken.logs];
    for (const secret of secrets) expect(all.some((t) => t.includes(secret))).toBe(false);
    expect(scanLogs([...stack.logs, ...broken.logs], secrets)).toEqual([]);
    expect(answers.join('\n')).toContain('IdempotencyStoreUnavailable');
  });
});
