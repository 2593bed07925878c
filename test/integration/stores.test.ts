import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../lib/idempotency/memory.js';
import { createRedisStore } from '../../lib/idempotency/redis.js';
import type { ChunkRecord, ClaimRequest, IdempotencyStore, LeaseRenewal } from '../../lib/idempotency/types.js';
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
  keepForMs: 60_000,
  op: { sellerId: '1', templateId: '2', fromApp: 'a', requestId: 'r', recipients: [['10', '1']] },
  ...over,
});
const chunk: ChunkRecord = {
  state: 'SENT',
  upstreamRequestId: 'op-1',
  confirmed: [{ youhuiId: { text: '1', kind: 'number' } }],
  at: 1,
};
const renewal = (over: Partial<LeaseRenewal> = {}): LeaseRenewal => ({
  leaseUntil: Date.now() + 60_000,
  keepForMs: 60_000,
  ...over,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['memory', 'redis'])('%s store primitives', (name) => {
  const store = () => stores[name] as IdempotencyStore;

  it('lets only the owner write or finish, and a live lease is not taken over', async () => {
    const k = key();
    expect((await store().claim(k, claimOf('a'))).acquired).toBe(true);
    expect((await store().claim(k, claimOf('b'))).acquired).toBe(false);
    expect(await store().putChunk(k, 'b', 1, chunk, renewal())).toBe(false);
    expect(await store().finish(k, 'b', true, 60_000)).toBe(false);
    expect(await store().putChunk(k, 'a', 1, chunk, renewal())).toBe(true);
    const seen = await store().claim(k, claimOf('c'));
    expect(seen).toMatchObject({
      acquired: false,
      record: { status: 'IN_PROGRESS', owner: 'a', chunkSize: 50, chunks: { 1: chunk } },
    });
  });

  it('takes over a released or expired lease with the same hash, keeping progress; never one with other content', async () => {
    const k = key();
    await store().claim(k, claimOf('a'));
    await store().putChunk(k, 'a', 1, chunk, renewal());
    expect(await store().finish(k, 'a', false, 60_000)).toBe(true);
    expect((await store().claim(k, claimOf('x', { hash: 'h2' }))).acquired).toBe(false);
    const taken = await store().claim(k, claimOf('b', { chunkSize: 10 }));
    expect(taken).toMatchObject({ acquired: true, record: { owner: 'b', chunkSize: 50, chunks: { 1: chunk } } });
    expect(await store().putChunk(k, 'a', 2, chunk, renewal())).toBe(false);

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
    expect(await store().putChunk(k, 'a', 1, chunk, renewal())).toBe(false);
  });

  it('keeps a record alive as long as its lease, whatever the TTL (claim, takeover and every write)', async () => {
    const k = key();
    await store().claim(k, claimOf('a', { leaseUntil: Date.now() - 1, keepForMs: 150 }));
    await store().claim(k, claimOf('b', { keepForMs: 60_000 }));
    await sleep(250);
    expect(await store().get(k)).toMatchObject({ owner: 'b' });
    const w = key();
    await store().claim(w, claimOf('a', { keepForMs: 150 }));
    expect(await store().putChunk(w, 'a', 1, chunk, renewal({ keepForMs: 60_000 }))).toBe(true);
    await sleep(250);
    expect(await store().get(w)).toMatchObject({ owner: 'a', chunks: { 1: chunk } });
  });

  it('moves the lease forward on each write, never back', async () => {
    const k = key();
    const far = Date.now() + 120_000;
    await store().claim(k, claimOf('a'));
    await store().putChunk(k, 'a', 1, chunk, renewal({ leaseUntil: far }));
    await store().putChunk(k, 'a', 2, chunk, renewal({ leaseUntil: Date.now() + 1000 }));
    expect((await store().get(k))?.leaseUntil).toBe(far);
  });

  it('gives the record back on get, and nothing for an unknown key', async () => {
    const k = key();
    await store().claim(k, claimOf('a'));
    await store().putChunk(k, 'a', 3, chunk, renewal());
    expect(await store().get(k)).toMatchObject({ status: 'IN_PROGRESS', hash: 'h1', chunks: { 3: chunk } });
    expect(await store().get(key())).toBeUndefined();
  });
});

describe.each(['memory', 'redis'])('%s store expiry', (name) => {
  it('forgets a completed record TTL after it completed', async () => {
    const store = stores[name] as IdempotencyStore;
    const k = key();
    await store.claim(k, claimOf('a', { keepForMs: 150 }));
    expect(await store.finish(k, 'a', true, 200)).toBe(true);
    expect(await store.get(k)).toMatchObject({ status: 'COMPLETED' });
    await sleep(350);
    expect(await store.get(k)).toBeUndefined();
  });
});

describe.each(['memory', 'redis'])('%s store inspection', (name) => {
  it('keeps the operation with its record, lists records, and amends a chunk only when no delivery holds it', async () => {
    const store = stores[name] as IdempotencyStore;
    const k = key();
    await store.claim(k, claimOf('a'));
    expect((await store.get(k))?.op).toEqual({
      sellerId: '1',
      templateId: '2',
      fromApp: 'a',
      requestId: 'r',
      recipients: [['10', '1']],
    });
    const keys: string[] = [];
    for await (const entry of store.list()) keys.push(entry.key);
    expect(keys).toContain(k);
    const settled: ChunkRecord = { ...chunk, state: 'UNKNOWN', reconciled: [{ issued: false }] };
    expect(await store.amendChunk(k, 1, settled, Date.now())).toBe(false);
    await store.finish(k, 'a', true, 60_000);
    expect(await store.amendChunk(k, 1, settled, Date.now())).toBe(true);
    expect((await store.get(k))?.chunks[1]).toEqual(settled);
    expect(await store.amendChunk(key(), 1, settled, Date.now())).toBe(false);
  });
});
