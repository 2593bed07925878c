import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createMemoryLedger, type BudgetLedger } from '../../../../lib/guardrails/ledger.js';
import { createMemoryStore } from '../../../../lib/idempotency/memory.js';
import type { IdempotencyStore, OperationSummary } from '../../../../lib/idempotency/types.js';
import { createSharedClient } from '../../../../local/instances/shared-proxy.js';
import { createSharedServer } from '../../../../local/instances/shared-server.js';
import type { FromInstance, ToInstance } from '../../../../local/instances/protocol.js';

/** Both ends of the fork channel, each message through V8's serializer as Node's `advanced` channel sends it. */
function channel(targets: Parameters<typeof createSharedServer>[0], lose?: (m: FromInstance) => boolean) {
  const server = createSharedServer(targets);
  const clone = <T>(m: T): T => deserialize(serialize(m)) as T;
  const client = createSharedClient((message) => {
    if (lose?.(message)) return;
    const call = clone(message);
    if (call.type !== 'shared-call') return;
    void server(call).then((reply: ToInstance) => {
      if (reply.type === 'shared-reply') client.settle(clone(reply));
    });
  });
  return client;
}

const op: OperationSummary = {
  sellerId: '3944837183',
  templateId: '295873',
  fromApp: 'test',
  requestId: 'r-1',
  recipients: [
    ['1', '1'],
    ['2', '1'],
  ],
};
const claim = (owner: string, now: number) => ({
  hash: 'h',
  chunkSize: 2,
  op,
  owner,
  leaseUntil: now + 1000,
  now,
  keepForMs: 60_000,
});

describe('the shared memory store over the fork channel', () => {
  it('answers every store method as the gateway’s store itself does, list() as an async iterable', async () => {
    const inner = createMemoryStore();
    const store = channel({ store: inner }).handle<IdempotencyStore>('store');
    const now = Date.now();
    expect(await store.claim('k', claim('a', now))).toMatchObject({ acquired: true });
    expect(await store.claim('k', claim('b', now))).toMatchObject({ acquired: false, record: { owner: 'a' } });
    const chunk = { state: 'SENT' as const, recipients: [], updatedAt: now };
    expect(await store.putChunk('k', 'a', 1, chunk as never, { leaseUntil: now + 2000, keepForMs: 60_000 })).toBe(true);
    expect(await store.finish('k', 'a', true, 60_000)).toBe(true);
    expect(await store.get('k')).toEqual(await inner.get('k'));
    expect(await store.get('missing')).toBeUndefined();
    const listed = [];
    for await (const entry of store.list()) listed.push(entry);
    expect(listed).toEqual([{ key: 'k', record: await inner.get('k') }]);
    expect(await store.amendChunk('k', 1, chunk as never, now)).toBe(true);
  });

  it('keeps close() to the instance: the gateway’s records stay for every other instance', async () => {
    const inner = createMemoryStore();
    const store = channel({ store: inner }).handle<IdempotencyStore>('store');
    await store.claim('k', claim('a', Date.now()));
    await store.close();
    expect(await inner.get('k')).toBeDefined();
  });

  it('forwards any ledger method by name, arguments included, so added methods need no change here', async () => {
    const inner = createMemoryLedger();
    const extended = { ...inner, twice: async (key: string, cents: number) => (await inner.used(key)) * 2 + cents };
    const ledger = channel({ ledger: extended }).handle<
      BudgetLedger & { twice(k: string, c: number): Promise<number> }
    >('ledger');
    const a = { id: 'op:1', owner: 'o1' };
    const b = { id: 'op:2', owner: 'o1' };
    expect(await ledger.reserve('day', a, 300, 500, 60_000)).toEqual({ granted: true, usedCents: 300 });
    expect(await ledger.reserve('day', b, 300, 500, 60_000)).toEqual({ granted: false, usedCents: 300 });
    expect(await ledger.release('day', a)).toBe(true);
    expect(await ledger.used('day')).toBe(0);
    expect(await ledger.twice('day', 1)).toBe(1);
  });

  it('rejects with the gateway’s error, and refuses names that are not the object’s own methods', async () => {
    const failing = { get: async () => Promise.reject(Object.assign(new Error('store down'), { name: 'StoreError' })) };
    const store = channel({ store: failing }).handle<IdempotencyStore>('store');
    await expect(store.get('k')).rejects.toMatchObject({ name: 'StoreError', message: 'store down' });
    const handle = store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    expect(handle['constructor']).toBeUndefined();
    await expect(handle['hasOwnProperty']?.('get')).rejects.toThrow(/not a method/);
    expect((store as unknown as { then?: unknown }).then).toBeUndefined();
  });

  it('fails every call still waiting when the channel closes', async () => {
    const client = channel({ store: createMemoryStore() }, () => true);
    const pending = client.handle<IdempotencyStore>('store').get('k');
    client.failAll();
    await expect(pending).rejects.toThrow(/gateway is gone/);
  });
});
