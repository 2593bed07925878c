import { listRecentHashes, redisIdempotencyStore } from '../idempotency/redis.js';
import type { ChunkRecord, IdempotencyStore, ListQuery, ListCursor } from '../idempotency/types.js';
import { connectRedis, guarded } from '../redis/connect.js';
import { checkRecord, checkRedisHash, type Checked } from './check.js';

/**
 * The operation records that `coupon` and the operations page read and amend. Every record comes checked: a
 * malformed one is reported and skipped, never trusted and never a crash.
 */
export interface Records {
  get(key: string): Promise<Checked | undefined>;
  list(): AsyncIterable<{ key: string; checked: Checked }>;
  amendChunk(key: string, chunk: number, record: ChunkRecord): Promise<boolean>;
  close(): Promise<void>;
}

export interface RecentPage {
  records: Array<{ key: string; checked: Checked }>;
  next?: ListCursor;
}

/** Records that can also be listed newest first from the store's indexes (what the operations page needs). */
export interface IndexedRecords extends Records {
  listRecent(query: ListQuery): Promise<RecentPage>;
}

/** The records' key prefix in Redis, as the store writes them (lib/idempotency/redis.ts). */
export const RECORDS_PREFIX = 'coupon:idem:';

/** Reads the hashes itself, so one record that does not parse is reported instead of ending the scan. */
export async function redisRecords(url: string): Promise<IndexedRecords> {
  const client = await connectRedis(url);
  const store = redisIdempotencyStore(client, RECORDS_PREFIX);
  const hash = async (full: string) => {
    const reply = await guarded('read', () => client.call('HGETALL', full));
    return Array.isArray(reply) ? reply.map(String) : [];
  };
  return {
    async get(key) {
      const flat = await hash(RECORDS_PREFIX + key);
      return flat.length === 0 ? undefined : checkRedisHash(flat);
    },
    async *list() {
      let cursor = '0';
      do {
        const reply = await guarded('scan', () =>
          client.call('SCAN', cursor, 'MATCH', `${RECORDS_PREFIX}*`, 'COUNT', '500'),
        );
        const [next, keys] = Array.isArray(reply) ? reply : ['0', []];
        cursor = String(next);
        for (const full of Array.isArray(keys) ? keys.map(String) : []) {
          const flat = await hash(full);
          if (flat.length > 0) yield { key: full.slice(RECORDS_PREFIX.length), checked: checkRedisHash(flat) };
        }
      } while (cursor !== '0');
    },
    async listRecent(query) {
      const page = await listRecentHashes(client, RECORDS_PREFIX, query);
      return { ...page, records: page.records.map(({ key, flat }) => ({ key, checked: checkRedisHash(flat) })) };
    },
    amendChunk: (key, chunk, record) => store.amendChunk(key, chunk, record, Date.now()),
    close: () => store.close(),
  };
}

function checkedPage(page: Awaited<ReturnType<IdempotencyStore['listRecent']>>): RecentPage {
  return {
    records: page.records.map(({ key, record }) => ({ key, checked: checkRecord(record) })),
    ...(page.next ? { next: page.next } : {}),
  };
}

/** A store in this process (the local stack's): its records, checked on the way out as any other reader's. */
export function storeRecords(store: IdempotencyStore, now: () => number = Date.now): IndexedRecords {
  return {
    async get(key) {
      const record = await store.get(key);
      return record === undefined ? undefined : checkRecord(record);
    },
    async *list() {
      for await (const { key, record } of store.list()) yield { key, checked: checkRecord(record) };
    },
    listRecent: async (query) => checkedPage(await store.listRecent(query)),
    amendChunk: (key, chunk, record) => store.amendChunk(key, chunk, record, now()),
    // The store belongs to whoever made it: the reader never closes it.
    async close() {},
  };
}
