import type { ChunkRecord, ClaimRequest, IdempotencyRecord, IdempotencyStore } from './types.js';

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
        };
        entries.set(key, { record, expiresAt: req.now + req.ttlMs });
        return { acquired: true, record: copy(record) };
      }
      const r = entry.record;
      if (r.status === 'IN_PROGRESS' && r.hash === req.hash && r.leaseUntil <= req.now) {
        r.owner = req.owner;
        r.leaseUntil = req.leaseUntil;
        return { acquired: true, record: copy(r) };
      }
      return { acquired: false, record: copy(r) };
    },
    async putChunk(key, owner, chunk, record: ChunkRecord) {
      const entry = live(key);
      if (!entry || entry.record.owner !== owner || entry.record.status !== 'IN_PROGRESS') return false;
      entry.record.chunks[chunk] = { ...record };
      return true;
    },
    async finish(key, owner, completed, ttlMs) {
      const entry = live(key);
      if (!entry || entry.record.owner !== owner || entry.record.status !== 'IN_PROGRESS') return false;
      if (completed) {
        entry.record.status = 'COMPLETED';
        entry.expiresAt = now() + ttlMs;
      }
      entry.record.leaseUntil = 0;
      return true;
    },
    async close() {
      entries.clear();
    },
  };
}

let shared: IdempotencyStore | undefined;

/**
 * The one memory store of this process, so that functions loaded side by side (the local stack) see each
 * other's operations as a deployed shared store would make them.
 */
export function processMemoryStore(): IdempotencyStore {
  shared ??= createMemoryStore();
  return shared;
}
