import {
  indexEntry,
  MAX_PREFIX_MATCHES,
  type ChunkRecord,
  type ClaimRequest,
  type IdempotencyRecord,
  type IdempotencyStore,
  type LeaseRenewal,
  type ListCursor,
  type ListedRecord,
  type ListState,
} from './types.js';

interface Entry {
  record: IdempotencyRecord;
  expiresAt: number;
}

interface Indexed {
  at: number;
  entry: string;
  key: string;
}

/** Newest first: by time, then by entry text, as the Redis store's sorted sets order them. */
const newer = (a: Indexed, b: Indexed): number => b.at - a.at || (a.entry < b.entry ? 1 : a.entry > b.entry ? -1 : 0);

/** A set of index entries kept in listing order (newest first), as one of the Redis store's sorted sets. */
class SortedIndex {
  private readonly items: Indexed[] = [];
  private readonly members = new Map<string, Indexed>();

  add(item: Indexed): void {
    if (this.members.has(item.entry)) return;
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newer(this.items[mid] as Indexed, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
    this.members.set(item.entry, item);
  }

  remove(entry: string): void {
    const item = this.members.get(entry);
    if (!item) return;
    this.members.delete(entry);
    this.items.splice(this.items.indexOf(item), 1);
  }

  has(entry: string): boolean {
    return this.members.has(entry);
  }

  /** The entries after `cursor`, newest first (a copy: the walk may drop entries on the way). */
  after(cursor: ListCursor | undefined): Indexed[] {
    if (!cursor) return [...this.items];
    const start = this.items.findIndex((i) => newer({ at: cursor.at, entry: cursor.entry, key: '' }, i) < 0);
    return start < 0 ? [] : this.items.slice(start);
  }
}

/** One process only: the local stack's default and the unit tests'. Each method runs without an await, so it is atomic. */
export function createMemoryStore(now: () => number = Date.now): IdempotencyStore {
  const entries = new Map<string, Entry>();
  let claims = 0;
  // The same indexes as the Redis store's, kept in the same steps as the records.
  const byTime = new SortedIndex();
  const byState: Record<ListState, SortedIndex> = {
    IN_PROGRESS: new SortedIndex(),
    COMPLETED: new SortedIndex(),
    UNKNOWN: new SortedIndex(),
  };
  // Ordered by entry text (RequestId first), as the Redis store's by-RequestId set: a prefix is one range of it.
  const byRequestId: Indexed[] = [];
  const firstAtOrAfter = (text: string) => {
    let lo = 0;
    let hi = byRequestId.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((byRequestId[mid] as Indexed).entry < text) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const indexedAs = new Map<string, Indexed>();

  const unindex = (item: Indexed) => {
    byTime.remove(item.entry);
    for (const index of Object.values(byState)) index.remove(item.entry);
    const at = firstAtOrAfter(item.entry);
    if (byRequestId[at]?.entry === item.entry) byRequestId.splice(at, 1);
    if (indexedAs.get(item.key) === item) indexedAs.delete(item.key);
  };
  const index = (key: string, record: IdempotencyRecord) => {
    const old = indexedAs.get(key);
    if (old) unindex(old);
    const item = { at: record.createdAt ?? now(), entry: indexEntry(record.op?.requestId ?? '', key), key };
    indexedAs.set(key, item);
    byTime.add(item);
    byRequestId.splice(firstAtOrAfter(item.entry), 0, item);
    reindex(key, record);
  };
  /** The state indexes follow the record: after any write to its status or chunks. */
  const reindex = (key: string, record: IdempotencyRecord) => {
    const item = indexedAs.get(key);
    if (!item) return;
    byState[record.status === 'COMPLETED' ? 'COMPLETED' : 'IN_PROGRESS'].add(item);
    byState[record.status === 'COMPLETED' ? 'IN_PROGRESS' : 'COMPLETED'].remove(item.entry);
    if (Object.values(record.chunks).some((c) => c.state === 'UNKNOWN')) byState.UNKNOWN.add(item);
    else byState.UNKNOWN.remove(item.entry);
  };
  /** An entry whose record is gone is dropped from every index; true while its record lives. */
  const alive = (item: Indexed): boolean => {
    if (live(item.key) && indexedAs.get(item.key) === item) return true;
    unindex(item);
    return false;
  };

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const sweep = () => {
    const t = now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt > t) continue;
      entries.delete(key);
      const item = indexedAs.get(key);
      if (item) unindex(item);
    }
  };
  const keep = (entry: Entry, ms: number) => {
    entry.expiresAt = Math.max(entry.expiresAt, now() + ms);
  };
  const held = (key: string, owner: string): Entry | undefined => {
    const entry = live(key);
    return entry && entry.record.owner === owner && entry.record.status === 'IN_PROGRESS' ? entry : undefined;
  };
  // Chunk records are replaced, never mutated, so a shallow copy of the map is a full snapshot.
  const copy = (r: IdempotencyRecord): IdempotencyRecord => ({ ...r, chunks: { ...r.chunks } });

  return {
    async claim(key, req: ClaimRequest) {
      if (++claims % 1000 === 0) sweep();
      const entry = live(key);
      if (!entry) {
        const record: IdempotencyRecord = {
          status: 'IN_PROGRESS',
          hash: req.hash,
          owner: req.owner,
          leaseUntil: req.leaseUntil,
          chunkSize: req.chunkSize,
          chunks: {},
          op: req.op,
          createdAt: req.now,
        };
        entries.set(key, { record, expiresAt: now() + req.keepForMs });
        index(key, record);
        return { acquired: true, record: copy(record) };
      }
      const r = entry.record;
      if (r.status === 'IN_PROGRESS' && r.hash === req.hash && r.leaseUntil <= req.now) {
        r.owner = req.owner;
        r.leaseUntil = req.leaseUntil;
        keep(entry, req.keepForMs);
        return { acquired: true, record: copy(r) };
      }
      return { acquired: false, record: copy(r) };
    },
    async putChunk(key, owner, chunk, record: ChunkRecord, renewal: LeaseRenewal) {
      const entry = held(key, owner);
      if (!entry) return false;
      entry.record.chunks[chunk] = { ...record };
      if (renewal.completeTtlMs !== undefined) {
        entry.record.status = 'COMPLETED';
        entry.record.leaseUntil = 0;
        entry.expiresAt = now() + renewal.completeTtlMs;
        reindex(key, entry.record);
        return true;
      }
      reindex(key, entry.record);
      entry.record.leaseUntil = Math.max(entry.record.leaseUntil, renewal.leaseUntil);
      keep(entry, renewal.keepForMs);
      return true;
    },
    async finish(key, owner, completed, ttlMs) {
      const entry = held(key, owner);
      if (!entry) return false;
      if (completed) {
        entry.record.status = 'COMPLETED';
        entry.expiresAt = now() + ttlMs;
        reindex(key, entry.record);
      }
      entry.record.leaseUntil = 0;
      return true;
    },
    async get(key) {
      const entry = live(key);
      return entry ? copy(entry.record) : undefined;
    },
    async *list() {
      for (const key of [...entries.keys()]) {
        const entry = live(key);
        if (entry) yield { key, record: copy(entry.record) };
      }
    },
    async restore(key, record, keepForMs) {
      if (live(key)) return false;
      const restored = { ...copy(record), createdAt: record.createdAt ?? now() };
      entries.set(key, { record: restored, expiresAt: now() + keepForMs });
      index(key, restored);
      return true;
    },
    async amendChunk(key, chunk, record, at) {
      const entry = live(key);
      if (!entry || (entry.record.status === 'IN_PROGRESS' && entry.record.leaseUntil > at)) return false;
      entry.record.chunks[chunk] = { ...record };
      reindex(key, entry.record);
      return true;
    },
    async listRecent({ state, requestIdPrefix, limit, before }) {
      let candidates: Indexed[];
      if (requestIdPrefix) {
        const index = state ? byState[state] : byTime;
        const start = firstAtOrAfter(requestIdPrefix);
        let end = start;
        while (end < byRequestId.length && (byRequestId[end] as Indexed).entry.startsWith(requestIdPrefix)) end++;
        candidates = byRequestId
          .slice(start, Math.min(end, start + MAX_PREFIX_MATCHES))
          .filter((i) => index.has(i.entry))
          .sort(newer)
          .filter((i) => !before || newer({ at: before.at, entry: before.entry, key: '' }, i) < 0);
      } else candidates = (state ? byState[state] : byTime).after(before);
      const records: ListedRecord[] = [];
      let last: Indexed | undefined;
      for (const item of candidates) {
        if (!alive(item)) continue;
        if (records.length === limit) return { records, ...(last ? { next: { at: last.at, entry: last.entry } } : {}) };
        const entry = entries.get(item.key) as Entry;
        records.push({ key: item.key, record: copy(entry.record) });
        last = item;
      }
      return { records };
    },
    async close() {
      entries.clear();
      for (const item of [...indexedAs.values()]) unindex(item);
    },
  };
}

/**
 * Where a host that loads several functions into one process (the local stack) puts the one memory store they
 * share, as a deployed shared store makes them see each other's operations. A global symbol, not a module
 * variable, since each bundle has its own copy of this module.
 */
export const SHARED_MEMORY_STORE = Symbol.for('coupon-sender.shared-memory-store');

type WithSharedStore = typeof globalThis & { [SHARED_MEMORY_STORE]?: IdempotencyStore };

/** The memory store the host shares between functions, or one of this function's own. */
export function memoryStoreOfProcess(): IdempotencyStore {
  return (globalThis as WithSharedStore)[SHARED_MEMORY_STORE] ?? createMemoryStore();
}

/**
 * Whether a host has put a shared memory store here: the local stack does, for its functions and the instance
 * processes it runs as FC would (they reach the gateway's store through it). Nothing does so on FC itself.
 */
export function hostSharesMemoryStore(): boolean {
  return SHARED_MEMORY_STORE in globalThis;
}
