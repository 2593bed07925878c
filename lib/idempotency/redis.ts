import { connectRedis, guarded, type RedisClient, type RedisOptions } from '../redis/connect.js';
import { NO_REPLICA_WAIT, replicated, type ReplicaWait } from './replica-wait.js';
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
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'status', 'COMPLETED', 'leaseUntil', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  return 1
end
if tonumber(f[3]) < tonumber(ARGV[4]) then redis.call('HSET', KEYS[1], 'leaseUntil', ARGV[4]) end
keep(ARGV[5])
return 1`;

const AMEND = `
local f = redis.call('HMGET', KEYS[1], 'status', 'leaseUntil')
if not f[1] then return 0 end
if f[1] == 'IN_PROGRESS' and tonumber(f[2]) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** ARGV: keepForMs, then field, value, … Written only where no record is. */
const RESTORE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
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

function fieldsOf(record: IdempotencyRecord): string[] {
  const fields = [
    'status',
    record.status,
    'hash',
    record.hash,
    'owner',
    record.owner,
    'leaseUntil',
    String(record.leaseUntil),
    'chunkSize',
    String(record.chunkSize),
  ];
  if (record.op) fields.push('op', JSON.stringify(record.op));
  for (const [n, chunk] of Object.entries(record.chunks)) fields.push(`c:${n}`, JSON.stringify(chunk));
  return fields;
}

/**
 * The idempotency primitives on a connected client (shared with the budget ledger). With `wait`, every write
 * that lets a delivery go on (a claim acquired, a chunk written, a record restored or finished) counts only once
 * enough replicas hold it.
 */
export function redisIdempotencyStore(
  client: RedisClient,
  prefix = 'coupon:idem:',
  wait: ReplicaWait = NO_REPLICA_WAIT,
): IdempotencyStore {
  const claim = client.script(CLAIM);
  const restore = client.script(RESTORE);
  const putChunk = client.script(PUT_CHUNK);
  const finish = client.script(FINISH);
  const amend = client.script(AMEND);
  const hgetall = async (key: string) => {
    const reply = await client.call('HGETALL', key);
    return Array.isArray(reply) ? reply.map(String) : [];
  };
  return {
    claim: (key, r: ClaimRequest) =>
      guarded('claim', async () => {
        const args = [
          r.hash,
          r.owner,
          String(r.leaseUntil),
          String(r.now),
          String(r.keepForMs),
          String(r.chunkSize),
          JSON.stringify(r.op),
        ];
        const reply = await claim([prefix + key], args);
        const [acquired, flat] = Array.isArray(reply) ? reply : [];
        const record = toRecord(Array.isArray(flat) ? flat.map(String) : []);
        // Ours either way: acquired now, or by this same claim sent before (its reply lost).
        if (acquired === 1 || record.owner === r.owner) await replicated(client, wait);
        return { acquired: acquired === 1, record };
      }),
    putChunk: (key, owner, chunk, record, renewal: LeaseRenewal) =>
      guarded('write', async () => {
        const complete = renewal.completeTtlMs === undefined ? '' : String(renewal.completeTtlMs);
        const args = [
          owner,
          `c:${chunk}`,
          JSON.stringify(record),
          String(renewal.leaseUntil),
          String(renewal.keepForMs),
          complete,
        ];
        const written = (await putChunk([prefix + key], args)) === 1;
        if (written) await replicated(client, wait);
        return written;
      }),
    finish: (key, owner, completed, ttlMs) =>
      guarded('write', async () => {
        const done = (await finish([prefix + key], [owner, completed ? '1' : '0', String(ttlMs)])) === 1;
        if (done) await replicated(client, wait);
        return done;
      }),
    restore: (key, record, keepForMs) =>
      guarded('write', async () => {
        const restored = (await restore([prefix + key], [String(keepForMs), ...fieldsOf(record)])) === 1;
        if (restored) await replicated(client, wait);
        return restored;
      }),
    get: (key) =>
      guarded('read', async () => {
        const flat = await hgetall(prefix + key);
        return flat.length === 0 ? undefined : toRecord(flat);
      }),
    async *list() {
      let cursor = '0';
      do {
        const reply = await guarded('scan', () => client.call('SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '500'));
        const [next, keys] = Array.isArray(reply) ? reply : ['0', []];
        cursor = String(next);
        for (const full of Array.isArray(keys) ? keys.map(String) : []) {
          const flat = await guarded('read', () => hgetall(full));
          if (flat.length > 0) yield { key: full.slice(prefix.length), record: toRecord(flat) };
        }
      } while (cursor !== '0');
    },
    amendChunk: (key, chunk, record, now) =>
      guarded(
        'write',
        async () => (await amend([prefix + key], [`c:${chunk}`, JSON.stringify(record), String(now)])) === 1,
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
