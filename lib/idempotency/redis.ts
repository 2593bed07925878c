import { connectRedis, guarded, type RedisClient, type RedisOptions } from '../redis/connect.js';
import {
  type ChunkRecord,
  type ClaimRequest,
  type IdempotencyRecord,
  type IdempotencyStore,
  type LeaseRenewal,
  type OperationSummary,
  type RecordStatus,
} from './types.js';

/*
 * One Redis hash per operation: status, hash, owner, leaseUntil, chunkSize, and one field `c:<n>` per chunk.
 * Each primitive is a single Lua script, so a claim is one atomic step (never check-then-insert), only the
 * current owner's writes land, and every write keeps the record alive at least as long as its lease.
 */
const KEEP = `
local function keep(ms)
  if redis.call('PTTL', KEYS[1]) < tonumber(ms) then redis.call('PEXPIRE', KEYS[1], ms) end
end`;

const CLAIM = `${KEEP}
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'status', 'IN_PROGRESS', 'hash', ARGV[1], 'owner', ARGV[2], 'leaseUntil', ARGV[3], 'chunkSize', ARGV[6], 'op', ARGV[7])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {1, redis.call('HGETALL', KEYS[1])}
end
local f = redis.call('HMGET', KEYS[1], 'status', 'hash', 'leaseUntil')
if f[1] == 'IN_PROGRESS' and f[2] == ARGV[1] and tonumber(f[3]) <= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'leaseUntil', ARGV[3])
  keep(ARGV[5])
  return {1, redis.call('HGETALL', KEYS[1])}
end
return {0, redis.call('HGETALL', KEYS[1])}`;

const PUT_CHUNK = `${KEEP}
local f = redis.call('HMGET', KEYS[1], 'owner', 'status', 'leaseUntil')
if f[1] ~= ARGV[1] or f[2] ~= 'IN_PROGRESS' then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if tonumber(f[3]) < tonumber(ARGV[4]) then redis.call('HSET', KEYS[1], 'leaseUntil', ARGV[4]) end
keep(ARGV[5])
return 1`;

const AMEND = `
local f = redis.call('HMGET', KEYS[1], 'status', 'leaseUntil')
if not f[1] then return 0 end
if f[1] == 'IN_PROGRESS' and tonumber(f[2]) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

const FINISH = `
local f = redis.call('HMGET', KEYS[1], 'owner', 'status')
if f[1] ~= ARGV[1] or f[2] ~= 'IN_PROGRESS' then return 0 end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'status', 'COMPLETED', 'leaseUntil', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('HSET', KEYS[1], 'leaseUntil', '0')
end
return 1`;

interface Scripted extends RedisClient {
  couponClaim(
    key: string,
    hash: string,
    owner: string,
    leaseUntil: string,
    now: string,
    keepForMs: string,
    chunkSize: string,
    op: string,
  ): Promise<[number, string[]]>;
  couponAmend(key: string, field: string, value: string, now: string): Promise<number>;
  couponPutChunk(
    key: string,
    owner: string,
    field: string,
    value: string,
    leaseUntil: string,
    keepForMs: string,
  ): Promise<number>;
  couponFinish(key: string, owner: string, completed: string, ttl: string): Promise<number>;
}

function toRecord(flat: string[]): IdempotencyRecord {
  const record: IdempotencyRecord = {
    status: 'IN_PROGRESS',
    hash: '',
    owner: '',
    leaseUntil: 0,
    chunkSize: 0,
    chunks: {},
  };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i] ?? '';
    const value = flat[i + 1] ?? '';
    if (field === 'status') record.status = value as RecordStatus;
    else if (field === 'hash') record.hash = value;
    else if (field === 'owner') record.owner = value;
    else if (field === 'leaseUntil') record.leaseUntil = Number(value);
    else if (field === 'chunkSize') record.chunkSize = Number(value);
    else if (field === 'op') record.op = JSON.parse(value) as OperationSummary;
    else if (field.startsWith('c:')) record.chunks[Number(field.slice(2))] = JSON.parse(value) as ChunkRecord;
  }
  return record;
}

/** The idempotency primitives on a connected client (shared with the budget ledger). */
export function redisIdempotencyStore(redis: RedisClient, prefix = 'coupon:idem:'): IdempotencyStore {
  const client = redis as Scripted;
  client.defineCommand('couponClaim', { numberOfKeys: 1, lua: CLAIM });
  client.defineCommand('couponPutChunk', { numberOfKeys: 1, lua: PUT_CHUNK });
  client.defineCommand('couponFinish', { numberOfKeys: 1, lua: FINISH });
  client.defineCommand('couponAmend', { numberOfKeys: 1, lua: AMEND });
  return {
    claim: (key, r: ClaimRequest) =>
      guarded('claim', async () => {
        const [acquired, flat] = await client.couponClaim(
          prefix + key,
          r.hash,
          r.owner,
          String(r.leaseUntil),
          String(r.now),
          String(r.keepForMs),
          String(r.chunkSize),
          JSON.stringify(r.op),
        );
        return { acquired: acquired === 1, record: toRecord(flat) };
      }),
    putChunk: (key, owner, chunk, record, renewal: LeaseRenewal) =>
      guarded('write', async () => {
        const lease = String(renewal.leaseUntil);
        const keep = String(renewal.keepForMs);
        return (
          (await client.couponPutChunk(prefix + key, owner, `c:${chunk}`, JSON.stringify(record), lease, keep)) === 1
        );
      }),
    finish: (key, owner, completed, ttlMs) =>
      guarded(
        'write',
        async () => (await client.couponFinish(prefix + key, owner, completed ? '1' : '0', String(ttlMs))) === 1,
      ),
    get: (key) =>
      guarded('read', async () => {
        const flat = await client.hgetall(prefix + key);
        return Object.keys(flat).length === 0 ? undefined : toRecord(Object.entries(flat).flat());
      }),
    async *list() {
      let cursor = '0';
      do {
        const [next, keys] = await guarded('scan', () => client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500));
        cursor = next;
        for (const full of keys) {
          const flat = await guarded('read', () => client.hgetall(full));
          if (Object.keys(flat).length > 0)
            yield { key: full.slice(prefix.length), record: toRecord(Object.entries(flat).flat()) };
        }
      } while (cursor !== '0');
    },
    amendChunk: (key, chunk, record, now) =>
      guarded(
        'write',
        async () => (await client.couponAmend(prefix + key, `c:${chunk}`, JSON.stringify(record), String(now))) === 1,
      ),
    async close() {
      client.disconnect();
    },
  };
}

/** Connects and gives the store; for callers that need no budget ledger on the same connection. */
export async function createRedisStore(
  url: string,
  options: RedisOptions & { prefix?: string } = {},
): Promise<IdempotencyStore> {
  return redisIdempotencyStore(await connectRedis(url, options), options.prefix);
}
