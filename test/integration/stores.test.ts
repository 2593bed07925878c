import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../lib/idempotency/memory.js';
import { createRedisStore } from '../../lib/idempotency/redis.js';
import type { ClaimRequest, IdempotencyStore } from '../../lib/idempotency/types.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
const stores: Record<string, IdempotencyStore> = {};
beforeAll(async () => {
  redis = await startRedis();
  stores['memory'] = createMemoryStore();
  stores['redis'] = await createRedisStore(redis.url, { prefix: `t${process.pid}:` });
});
afterAll(async () => {
  await stores['redis']?.close();
  await redis.stop();
});

let n = 0;
const key = () => `k-${++n}`;
const claimOf = (owner: string, over: Partial<ClaimRequest> = {}): ClaimRequest => ({
  hash: 'h1',
  chunkSize: 50,
  owner,
  leaseUntil: Date.now() + 60_000,
  now: Date.now(),
  ttlMs: 60_000,
  ...over,
});
const chunk = { state: 'SENT' as const, upstreamRequestId: 'op-1', youhuiIds: ['1'], at: 1 };

describe.each(['memory', 'redis'])('%s store primitives', (name) => {
  const store = () => stores[name] as IdempotencyStore;

  it('lets only the owner write or finish, and a live lease is not taken over', async () => {
    const k = key();
    expect((await store().claim(k, claimOf('a'))).acquired).toBe(true);
    expect((await store().claim(k, claimOf('b'))).acquired).toBe(false);
    expect(await store().putChunk(k, 'b', 1, chunk)).toBe(false);
    expect(await store().finish(k, 'b', true, 60_000)).toBe(false);
    expect(await store().putChunk(k, 'a', 1, chunk)).toBe(true);
    const seen = await store().claim(k, claimOf('c'));
    expect(seen).toMatchObject({
      acquired: false,
      record: { status: 'IN_PROGRESS', owner: 'a', chunkSize: 50, chunks: { 1: chunk } },
    });
  });

  it('takes over a released or expired lease with the same hash, keeping progress; never one with other content', async () => {
    const k = key();
    await store().claim(k, claimOf('a'));
    await store().putChunk(k, 'a', 1, chunk);
    expect(await store().finish(k, 'a', false, 60_000)).toBe(true);
    expect((await store().claim(k, claimOf('x', { hash: 'h2' }))).acquired).toBe(false);
    const taken = await store().claim(k, claimOf('b', { chunkSize: 10 }));
    expect(taken).toMatchObject({ acquired: true, record: { owner: 'b', chunkSize: 50, chunks: { 1: chunk } } });
    expect(await store().putChunk(k, 'a', 2, chunk)).toBe(false);

    const expired = key();
    await store().claim(expired, claimOf('a', { leaseUntil: Date.now() - 1 }));
    expect((await store().claim(expired, claimOf('b'))).acquired).toBe(true);
  });

  it('never hands out a completed record again', async () => {
    const k = key();
    await store().claim(k, claimOf('a'));
    expect(await store().finish(k, 'a', true, 60_000)).toBe(true);
    const again = await store().claim(k, claimOf('b', { now: Date.now() + 30_000 }));
    expect(again).toMatchObject({ acquired: false, record: { status: 'COMPLETED' } });
    expect(await store().putChunk(k, 'a', 1, chunk)).toBe(false);
  });
});
