/**
 * The small Redis client against a real redis-server: ACL users, timeouts, restarts, and a soak with
 * connections killed at random while operations run (nothing sent twice, nothing lost).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../lib/idempotency/redis.js';
import { createRedisClient } from '../../lib/redis/client.js';
import type { UpstreamCall } from '../../lib/resellertrade/client.js';
import { executeOperation } from '../../lib/send/execute.js';
import { operation, recipient } from '../fixtures/operations.js';
import { executorContext, uidOf } from '../helpers/executor.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis({ password: 'admin-pw' });
});
afterAll(async () => {
  await redis.stop();
});

const admin = () => createRedisClient(redis.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Redis client', () => {
  it('authenticates as an ACL user and runs the stores through it', async () => {
    const a = admin();
    await a.call('ACL', 'SETUSER', 'coupon', 'on', '>coupon-pw', '~coupon:*', '+@all');
    a.disconnect();
    const store = await createRedisStore(`redis://coupon:coupon-pw@127.0.0.1:${redis.port}`);
    const op = operation({ requestId: 'acl-op', recipients: [recipient('10', 1)] });
    const out = await executeOperation(
      op,
      executorContext(store, [{ outcome: { kind: 'ok', httpStatus: 200, items: [{ uid: '10' }] }, latencyMs: 1 }]),
    );
    expect(out.results[0]?.status).toBe('SENT');
    await store.close();
    const wrong = await createRedisStore(`redis://coupon:wrong@127.0.0.1:${redis.port}`);
    await expect(wrong.get('x')).rejects.toMatchObject({ name: 'StoreError' });
    await wrong.close();
  });

  it('gives up on a command that does not answer in time, and works again afterwards', async () => {
    const a = admin();
    const client = createRedisClient(redis.url, { commandTimeoutMs: 200 });
    await client.call('PING');
    await a.call('CLIENT', 'PAUSE', '600', 'ALL');
    const started = Date.now();
    await expect(client.call('GET', 'coupon:x')).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(500);
    await sleep(700);
    expect(await client.call('PING')).toBe('PONG');
    client.disconnect();
    a.disconnect();
  });

  it('fails closed while the server is down and reconnects when it is back', async () => {
    const own = await startRedis();
    const client = createRedisClient(own.url, { connectTimeoutMs: 300 });
    expect(await client.call('PING')).toBe('PONG');
    await own.stop();
    await expect(client.call('PING')).rejects.toThrow();
    await own.start();
    let answer: unknown;
    for (let i = 0; i < 20 && answer !== 'PONG'; i++) answer = await client.call('PING').catch(() => sleep(100));
    expect(answer).toBe('PONG');
    client.disconnect();
    await own.stop();
  });
});

describe('soak: operations while connections are killed at random', () => {
  const operations = Number(process.env['SOAK_OPERATIONS'] ?? 200);

  it(`sends each recipient of ${operations} operations at most once, and accounts for every one`, async () => {
    const store = await createRedisStore(redis.url, { prefix: `soak${process.pid}:` });
    const killer = admin();
    let killing = true;
    let killed = 0;
    const kills = (async () => {
      while (killing) {
        const n = await killer.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes').catch(() => 0);
        killed += typeof n === 'number' ? n : 0;
        await sleep(Math.random() * 10);
      }
    })();
    let attempts = 0;
    const sent = new Map<string, number>();
    const upstream = async (form: string): Promise<UpstreamCall> => {
      const id = `${new URLSearchParams(form).get('RequestId')}/${uidOf(form)}`;
      sent.set(id, (sent.get(id) ?? 0) + 1);
      return { outcome: { kind: 'ok', httpStatus: 200, items: [{ uid: uidOf(form) ?? '' }] }, latencyMs: 1 };
    };
    let clock = Date.now();
    const finals: Array<{ requestId: string; statuses: string[] }> = [];
    for (let i = 0; i < operations; i++) {
      const op = operation({
        requestId: `soak-${i}`,
        recipients: [recipient('10', 1), recipient('11', 2), recipient('12', 3)],
      });
      for (let attempt = 0; attempt < 100; attempt++) {
        attempts += 1;
        // Every redelivery comes after the last one's lease, as the platform's retries do.
        clock += 60_000;
        const ctx = executorContext(
          store,
          Array.from({ length: 3 }, () => upstream),
          { now: () => clock, deadline: clock + 600_000 },
        );
        const out = await executeOperation(op, ctx).catch(() => undefined);
        if (out && !out.results.some((r) => r.status === 'FAILED' && r.retryable)) {
          finals.push({ requestId: op.requestId, statuses: out.results.map((r) => r.status) });
          break;
        }
      }
    }
    killing = false;
    await kills;
    killer.disconnect();
    await store.close();
    expect(finals).toHaveLength(operations);
    // The kills did land mid-operation: connections were cut and deliveries had to be made again.
    expect(killed).toBeGreaterThan(operations / 20);
    expect(attempts).toBeGreaterThan(operations);
    expect([...sent.values()].every((n) => n === 1)).toBe(true);
    for (const f of finals) {
      f.statuses.forEach((status, i) => {
        const count = sent.get(`${f.requestId}-${i + 1}/${10 + i}`) ?? 0;
        if (status === 'SENT') expect(count).toBe(1);
        else expect(status).toBe('UNKNOWN');
      });
    }
  });
});

describe('round trips', () => {
  it('a single-chunk operation costs 3 on Redis: claim, SENDING, then the outcome and completion in one step', async () => {
    const { redisIdempotencyStore } = await import('../../lib/idempotency/redis.js');
    const { createRedisClient: connect } = await import('../../lib/redis/client.js');
    const client = connect(redis.url);
    let calls = 0;
    const counting = {
      ...client,
      call: (...args: string[]) => {
        calls += 1;
        return client.call(...args);
      },
      script: (lua: string) => {
        const run = client.script(lua);
        return (keys: readonly string[], args: readonly string[]) => {
          calls += 1;
          return run(keys, args);
        };
      },
    };
    const store = redisIdempotencyStore(counting, `rt${process.pid}:`);
    const op = operation({ requestId: 'round-trips', recipients: [recipient('10', 1)] });
    const ok: UpstreamCall = { outcome: { kind: 'ok', httpStatus: 200, items: [{ uid: '10' }] }, latencyMs: 1 };
    const out = await executeOperation(op, executorContext(store, [ok]));
    expect(out.results[0]?.status).toBe('SENT');
    expect(calls).toBe(3);
    expect((await store.get((await import('../../lib/idempotency/keys.js')).operationKey(op)))?.status).toBe(
      'COMPLETED',
    );
    const replay = await executeOperation(op, executorContext(store, []));
    expect(replay.replayed).toBe(true);
    await store.close();
  });
});
