/*
 * The stores' indexes (by creation time, by state, by RequestId) and `listRecent` over them, on the memory store
 * and on a real redis-server, a lost reply included: a listing is found without scanning the records, follows
 * every state change made in the same step as the record, pages without gaps or repeats, and forgets records
 * that have expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../lib/idempotency/memory.js';
import { createRedisStore } from '../../lib/idempotency/redis.js';
import {
  StoreError,
  type ChunkRecord,
  type ClaimRequest,
  type IdempotencyStore,
  type ListQuery,
  type ListedRecord,
} from '../../lib/idempotency/types.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { redisCommand, scriptCall, startRedisFaultProxy, type RedisFaultProxy } from '../helpers/redis-fault-proxy.js';

let redis: RedisServer;
let proxy: RedisFaultProxy;
let clock = 1_800_000_000_000;
const opened: IdempotencyStore[] = [];
beforeAll(async () => {
  redis = await startRedis();
  proxy = await startRedisFaultProxy(redis.port);
});
afterAll(async () => {
  for (const s of opened) await s.close();
  await proxy?.close();
  await redis?.stop();
});

let n = 0;
const open: Record<string, () => Promise<IdempotencyStore>> = {
  memory: async () => createMemoryStore(() => clock),
  redis: async () => {
    const store = await createRedisStore(redis.url, { prefix: `ix${++n}:` });
    opened.push(store);
    return store;
  },
};

const claimOf = (requestId: string, at: number, over: Partial<ClaimRequest> = {}): ClaimRequest => ({
  hash: 'h',
  chunkSize: 1,
  owner: 'o',
  leaseUntil: at + 60_000,
  now: at,
  keepForMs: 60_000,
  op: { sellerId: '1', templateId: '2', fromApp: 'app', requestId, recipients: [['10', '1']] },
  ...over,
});
const chunk = (state: ChunkRecord['state']): ChunkRecord => ({ state, upstreamRequestId: 'u', at: 1 });
const renewal = { leaseUntil: clock + 60_000, keepForMs: 60_000 };
const ids = (records: ListedRecord[]) => records.map((r) => r.record.op?.requestId);

/** Every page of a listing, followed by its cursors. */
async function allPages(store: IdempotencyStore, query: ListQuery): Promise<string[][]> {
  const pages: string[][] = [];
  let before = query.before;
  for (let i = 0; i < 50; i++) {
    const page = await store.listRecent({ ...query, ...(before ? { before } : {}) });
    pages.push(ids(page.records) as string[]);
    if (!page.next) return pages;
    before = page.next;
  }
  throw new Error('the cursor never ended');
}

describe.each(['memory', 'redis'])('%s store: listRecent', (name) => {
  it('lists newest first and follows each state change made with the record', async () => {
    const store = await open[name]!();
    await store.claim('k1', claimOf('op-a', 1000));
    await store.claim('k2', claimOf('op-b', 2000));
    await store.claim('k3', claimOf('op-c', 3000));
    expect(ids((await store.listRecent({ limit: 10 })).records)).toEqual(['op-c', 'op-b', 'op-a']);
    expect(ids((await store.listRecent({ state: 'IN_PROGRESS', limit: 10 })).records)).toEqual([
      'op-c',
      'op-b',
      'op-a',
    ]);

    await store.putChunk('k1', 'o', 1, chunk('SENT'), { ...renewal, completeTtlMs: 60_000 });
    await store.putChunk('k2', 'o', 1, chunk('UNKNOWN'), renewal);
    await store.finish('k2', 'o', true, 60_000);
    expect(ids((await store.listRecent({ state: 'COMPLETED', limit: 10 })).records)).toEqual(['op-b', 'op-a']);
    expect(ids((await store.listRecent({ state: 'IN_PROGRESS', limit: 10 })).records)).toEqual(['op-c']);
    expect(ids((await store.listRecent({ state: 'UNKNOWN', limit: 10 })).records)).toEqual(['op-b']);
    const [listed] = (await store.listRecent({ state: 'UNKNOWN', limit: 1 })).records;
    expect(listed).toMatchObject({ key: 'k2', record: { status: 'COMPLETED', createdAt: 2000 } });

    // A chunk no longer UNKNOWN (a later write over it) leaves the UNKNOWN index with it.
    await store.amendChunk('k2', 1, chunk('SENT'), clock);
    expect((await store.listRecent({ state: 'UNKNOWN', limit: 10 })).records).toEqual([]);
  });

  it('finds operations by RequestId prefix, with and without a state', async () => {
    const store = await open[name]!();
    await store.claim('p1', claimOf('batch-7:1', 1000));
    await store.claim('p2', claimOf('batch-7:2', 2000));
    await store.claim('p3', claimOf('batch-70', 3000));
    await store.claim('p4', claimOf('other', 4000));
    await store.finish('p1', 'o', true, 60_000);
    expect(ids((await store.listRecent({ requestIdPrefix: 'batch-7', limit: 10 })).records)).toEqual([
      'batch-70',
      'batch-7:2',
      'batch-7:1',
    ]);
    expect(ids((await store.listRecent({ requestIdPrefix: 'batch-7:', limit: 10 })).records)).toEqual([
      'batch-7:2',
      'batch-7:1',
    ]);
    expect(
      ids((await store.listRecent({ requestIdPrefix: 'batch-7', state: 'COMPLETED', limit: 10 })).records),
    ).toEqual(['batch-7:1']);
    expect(await allPages(store, { requestIdPrefix: 'batch', limit: 2 })).toEqual([
      ['batch-70', 'batch-7:2'],
      ['batch-7:1'],
    ]);
    expect((await store.listRecent({ requestIdPrefix: 'nothing', limit: 10 })).records).toEqual([]);
  });

  it('pages through records created in the same ms without a gap or a repeat', async () => {
    const store = await open[name]!();
    const created = Array.from({ length: 45 }, (_, i) => `same-${String(i).padStart(2, '0')}`);
    for (const [i, id] of created.entries()) await store.claim(`s${i}`, claimOf(id, i < 40 ? 5000 : 6000 + i));
    const pages = await allPages(store, { limit: 7 });
    const flat = pages.flat();
    expect(flat).toHaveLength(45);
    expect(new Set(flat).size).toBe(45);
    expect(flat.slice(0, 5)).toEqual(['same-44', 'same-43', 'same-42', 'same-41', 'same-40']);
    expect(pages.every((p) => p.length <= 7)).toBe(true);
  });

  it('keeps a restored record in its place and its state', async () => {
    const store = await open[name]!();
    await store.claim('r0', claimOf('restore-0', 1000));
    const record = {
      status: 'IN_PROGRESS' as const,
      hash: 'h',
      owner: 'o',
      leaseUntil: 0,
      chunkSize: 1,
      chunks: { 1: chunk('UNKNOWN') },
      op: claimOf('restore-1', 500).op,
      createdAt: 500,
    };
    expect(await store.restore('r1', record, 60_000)).toBe(true);
    expect(ids((await store.listRecent({ limit: 10 })).records)).toEqual(['restore-0', 'restore-1']);
    expect(ids((await store.listRecent({ state: 'UNKNOWN', limit: 10 })).records)).toEqual(['restore-1']);
  });
});

describe('memory store: expiry', () => {
  it('drops entries whose record has expired', async () => {
    let now = 1000;
    const store = createMemoryStore(() => now);
    await store.claim('e1', claimOf('old', 1000, { keepForMs: 10 }));
    await store.claim('e2', claimOf('new', 1000, { keepForMs: 10_000 }));
    now = 2000;
    expect(ids((await store.listRecent({ limit: 10 })).records)).toEqual(['new']);
    expect(ids((await store.listRecent({ requestIdPrefix: 'old', limit: 10 })).records)).toEqual([]);
  });
});

describe('redis store: the indexes themselves', () => {
  it('lives outside the records prefix, expires with the records, and drops expired entries when read', async () => {
    const store = await createRedisStore(redis.url, { prefix: 'exp:' });
    opened.push(store);
    await store.claim('x1', claimOf('short', Date.now(), { keepForMs: 150 }));
    await store.claim('x2', claimOf('long', Date.now() + 1, { keepForMs: 60_000 }));
    expect(await redisCommand(redis.port, 'KEYS', 'exp:*')).toHaveLength(2);
    const pttl = Number(await redisCommand(redis.port, 'PTTL', 'exp~idx:time'));
    expect(pttl).toBeGreaterThan(50_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(ids((await store.listRecent({ limit: 10 })).records)).toEqual(['long']);
    expect(await redisCommand(redis.port, 'ZCARD', 'exp~idx:time')).toBe(1);
    expect(await redisCommand(redis.port, 'ZCARD', 'exp~idx:requestId')).toBe(1);
    expect(await redisCommand(redis.port, 'ZCARD', 'exp~idx:IN_PROGRESS')).toBe(1);
  });

  it('claims sweep the time index round and round: an expired entry behind a long-lived one goes too', async () => {
    const store = await createRedisStore(redis.url, { prefix: 'sw:' });
    opened.push(store);
    const t = Date.now();
    await store.claim('a', claimOf('long-lived', t, { keepForMs: 60_000 }));
    await store.claim('b', claimOf('short-1', t + 1, { keepForMs: 100 }));
    await store.claim('c', claimOf('short-2', t + 2, { keepForMs: 100 }));
    await new Promise((r) => setTimeout(r, 250));
    await store.claim('d', claimOf('later-1', t + 300));
    await store.claim('e', claimOf('later-2', t + 301));
    expect(await redisCommand(redis.port, 'ZRANGE', 'sw~idx:time', '0', '-1')).toEqual([
      'long-lived\u0000a',
      'later-1\u0000d',
      'later-2\u0000e',
    ]);
    expect(await redisCommand(redis.port, 'ZCARD', 'sw~idx:requestId')).toBe(3);
  });

  it('a listing whose reply is lost fails as a store error, and the next one answers the same', async () => {
    const store = await createRedisStore(proxy.url, { prefix: 'lost:' });
    opened.push(store);
    await store.claim('l1', claimOf('lost-1', 1000));
    await store.claim('l2', claimOf('lost-2', 2000));
    const fault = proxy.inject({
      match: (cmd) => scriptCall(cmd)?.keys[0] === 'lost~idx:time' && (scriptCall(cmd)?.keys.length ?? 0) === 5,
      action: 'drop-reply',
    });
    await expect(store.listRecent({ limit: 10 })).rejects.toThrow(StoreError);
    expect(fault.fired).toBe(1);
    expect(ids((await store.listRecent({ limit: 10 })).records)).toEqual(['lost-2', 'lost-1']);
  });

  it('a claim whose reply is lost and sent again indexes the record once', async () => {
    const store = await createRedisStore(proxy.url, { prefix: 'lostclaim:' });
    opened.push(store);
    const fault = proxy.inject({
      match: (cmd) => scriptCall(cmd)?.keys[0] === 'lostclaim:c1',
      action: 'drop-reply',
    });
    await expect(store.claim('c1', claimOf('claimed', 1000))).rejects.toThrow();
    expect(fault.fired).toBe(1);
    expect((await store.claim('c1', claimOf('claimed', 1000))).record.owner).toBe('o');
    expect(ids((await store.listRecent({ limit: 10 })).records)).toEqual(['claimed']);
    expect(await redisCommand(redis.port, 'ZCARD', 'lostclaim~idx:time')).toBe(1);
  });
});
