import type { ChunkRecord, ClaimRequest, IdempotencyRecord, IdempotencyStore, LeaseRenewal } from './types.js';

interface Entry {
  record: IdempotencyRecord;
  expiresAt: number;
}

/** One process only: the local stack's default and the unit tests'. Each method runs without an await, so it is atomic. */
export function createMemoryStore(now: () => number = Date.now): IdempotencyStore {
  const entries = new Map<string, Entry>();
  let claims = 0;

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
    for (const [key, entry] of entries) if (entry.expiresAt <= t) entries.delete(key);
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
        };
        entries.set(key, { record, expiresAt: now() + req.keepForMs });
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
        return true;
      }
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
      entries.set(key, { record: copy(record), expiresAt: now() + keepForMs });
      return true;
    },
    async amendChunk(key, chunk, record, at) {
      const entry = live(key);
      if (!entry || (entry.record.status === 'IN_PROGRESS' && entry.record.leaseUntil > at)) return false;
      entry.record.chunks[chunk] = { ...record };
      return true;
    },
    async close() {
      entries.clear();
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
