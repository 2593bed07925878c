import type { Env } from '../lib/config.js';
import { keyOf } from '../lib/idempotency/keys.js';
import { createRedisStore } from '../lib/idempotency/redis.js';
import type { ChunkRecord, IdempotencyRecord, IdempotencyStore } from '../lib/idempotency/types.js';
import { localBase, localCredentials, request, UsageError } from './target.js';

/** The operation records the commands read and amend: the configured Redis, or the local stack's own store. */
export interface Records {
  get(key: string): Promise<IdempotencyRecord | undefined>;
  list(): AsyncIterable<{ key: string; record: IdempotencyRecord }>;
  amendChunk(key: string, chunk: number, record: ChunkRecord): Promise<boolean>;
  close(): Promise<void>;
}

function fromStore(store: IdempotencyStore): Records {
  return {
    get: (key) => store.get(key),
    list: () => store.list(),
    amendChunk: (key, chunk, record) => store.amendChunk(key, chunk, record, Date.now()),
    close: () => store.close(),
  };
}

/** The local stack keeps its store in its own process: it serves it under /__gateway/store/. */
function fromLocalStack(env: Env): Records {
  const base = localBase(env);
  const credentials = localCredentials(env);
  const call = async (method: string, path: string, body = '') => {
    let res: Response;
    try {
      res = await request(method, new URL(`/__gateway/store/records${path}`, base), body, credentials);
    } catch {
      throw new UsageError(`the local stack does not answer at ${base.href} (is npm start running?)`);
    }
    if (res.status === 401 || res.status === 403) {
      throw new UsageError('the local stack refused the call: set LOCAL_CALLER_KEYS as the stack has it');
    }
    return res;
  };
  return {
    async get(key) {
      const res = await call('GET', `/${key}`);
      if (res.status === 404) return undefined;
      return ((await res.json()) as { record: IdempotencyRecord }).record;
    },
    async *list() {
      const res = await call('GET', '');
      yield* ((await res.json()) as { records: Array<{ key: string; record: IdempotencyRecord }> }).records;
    },
    async amendChunk(key, chunk, record) {
      return (await call('PUT', `/${key}/chunks/${chunk}`, JSON.stringify(record))).status === 200;
    },
    async close() {},
  };
}

export async function openRecords(store: string | undefined, env: Env): Promise<Records> {
  const url = store ?? env['IDEMPOTENCY_STORE'];
  if (url && /^rediss?:\/\//.test(url)) return fromStore(await createRedisStore(url));
  return fromLocalStack(env);
}

export interface FoundRecord {
  key: string;
  record: IdempotencyRecord;
}

/**
 * The operation with this RequestId: by its key when seller and FromApp are known (flags, else SELLER_ID and
 * FROM_APP), else the one record that carries it.
 */
export async function findOperation(
  records: Records,
  requestId: string,
  seller: string | undefined,
  fromApp: string | undefined,
): Promise<FoundRecord> {
  if (seller !== undefined && fromApp !== undefined) {
    const key = keyOf(seller, fromApp, requestId);
    const record = await records.get(key);
    if (!record) throw new UsageError(`no operation ${requestId} of seller ${seller} from ${fromApp} in the store`);
    return { key, record };
  }
  const matches: FoundRecord[] = [];
  for await (const entry of records.list()) {
    const op = entry.record.op;
    if (
      op?.requestId === requestId &&
      (seller === undefined || op.sellerId === seller) &&
      (fromApp === undefined || op.fromApp === fromApp)
    ) {
      matches.push(entry);
    }
  }
  if (matches.length === 0) throw new UsageError(`no operation with RequestId ${requestId} in the store`);
  if (matches.length > 1)
    throw new UsageError(`${matches.length} operations have RequestId ${requestId}: give --seller and --from-app`);
  return matches[0] as FoundRecord;
}
