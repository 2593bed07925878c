import { connectRedis, guarded, type RedisClient, type RedisOptions, type ScriptRunner } from '../redis/connect.js';
import { NO_REPLICA_WAIT, replicated, type ReplicaWait } from './replica-wait.js';
import {
  indexEntry,
  MAX_PREFIX_MATCHES,
  type ChunkRecord,
  type ClaimRequest,
  type IdempotencyRecord,
  type IdempotencyStore,
  type LeaseRenewal,
  type ListCursor,
  type ListQuery,
  type ListState,
  type OperationSummary,
  type RecordStatus,
} from './types.js';

/*
 * One Redis hash per operation: status, hash, owner, leaseUntil, chunkSize, createdAt, its index entry `ix`, and
 * one field `c:<n>` per chunk. Each primitive is a single Lua script, so a claim is one atomic step (never
 * check-then-insert), only the current owner's writes land, and every write keeps the record alive at least as
 * long as its lease.
 *
 * Beside the records, five sorted sets index them, each written in the same script as the record it indexes
 * (KEYS[2..6]): every record by creation time, the IN_PROGRESS ones, the COMPLETED ones, those holding an UNKNOWN
 * chunk (all scored by creation time), and every record by RequestId (score 0, ordered by the entry's text).
 * An entry is `<RequestId> NUL <key>`. An index lives as long as its longest-lived record; entries whose record
 * has expired are dropped when a listing meets them, and each claim drops up to two of the oldest.
 */
const INDEX = `
local function keep(ms)
  if redis.call('PTTL', KEYS[1]) < tonumber(ms) then redis.call('PEXPIRE', KEYS[1], ms) end
end
local function keepIndexes(ms)
  for i = 2, 6 do
    if redis.call('PTTL', KEYS[i]) < tonumber(ms) then redis.call('PEXPIRE', KEYS[i], ms) end
  end
end
local function unindex(entry)
  for i = 2, 6 do redis.call('ZREM', KEYS[i], entry) end
end
local function isUnknown(text)
  if not text then return false end
  local ok, chunk = pcall(cjson.decode, text)
  return ok and type(chunk) == 'table' and chunk.state == 'UNKNOWN'
end
local function completed()
  local f = redis.call('HMGET', KEYS[1], 'ix', 'createdAt')
  if f[1] then
    redis.call('ZREM', KEYS[3], f[1])
    redis.call('ZADD', KEYS[4], tonumber(f[2]) or 0, f[1])
  end
end
-- After chunk field ARGV-given was written: the UNKNOWN index follows it (a full look only when it stops being one).
local function chunkWritten(before, after)
  local f = redis.call('HMGET', KEYS[1], 'ix', 'createdAt')
  if not f[1] then return end
  if isUnknown(after) then
    redis.call('ZADD', KEYS[5], tonumber(f[2]) or 0, f[1])
  elseif isUnknown(before) then
    local flat = redis.call('HGETALL', KEYS[1])
    for i = 1, #flat, 2 do
      if string.sub(flat[i], 1, 2) == 'c:' and isUnknown(flat[i + 1]) then return end
    end
    redis.call('ZREM', KEYS[5], f[1])
  end
end`;

const CLAIM = `${INDEX}
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'status', 'IN_PROGRESS', 'hash', ARGV[1], 'owner', ARGV[2], 'leaseUntil', ARGV[3], 'chunkSize', ARGV[6], 'op', ARGV[7], 'createdAt', ARGV[4], 'ix', ARGV[8])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[8])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[8])
  redis.call('ZADD', KEYS[6], 0, ARGV[8])
  -- Two more entries of the time index looked at, from where the last claim stopped (KEYS[7]), round and round:
  -- every entry whose record expired is dropped within one lap, however long the records before it live.
  local from = redis.call('GET', KEYS[7]) or '-inf'
  local seen = redis.call('ZRANGEBYSCORE', KEYS[2], from, '+inf', 'WITHSCORES', 'LIMIT', 0, 2)
  for i = 1, #seen, 2 do
    local key = string.match(seen[i], '^.*%z(.*)$')
    if key and redis.call('EXISTS', ARGV[9] .. key) == 0 then unindex(seen[i]) end
  end
  redis.call('SET', KEYS[7], #seen < 4 and '-inf' or '(' .. seen[#seen], 'PX', ARGV[5])
  keepIndexes(ARGV[5])
  if redis.call('PTTL', KEYS[7]) < redis.call('PTTL', KEYS[2]) then redis.call('PEXPIRE', KEYS[7], redis.call('PTTL', KEYS[2])) end
  return {1, redis.call('HGETALL', KEYS[1])}
end
local f = redis.call('HMGET', KEYS[1], 'status', 'hash', 'leaseUntil')
if f[1] == 'IN_PROGRESS' and f[2] == ARGV[1] and tonumber(f[3]) <= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'leaseUntil', ARGV[3])
  keep(ARGV[5])
  keepIndexes(ARGV[5])
  return {1, redis.call('HGETALL', KEYS[1])}
end
return {0, redis.call('HGETALL', KEYS[1])}`;

const PUT_CHUNK = `${INDEX}
local f = redis.call('HMGET', KEYS[1], 'owner', 'status', 'leaseUntil', ARGV[2])
if f[1] ~= ARGV[1] or f[2] ~= 'IN_PROGRESS' then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
chunkWritten(f[4], ARGV[3])
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'status', 'COMPLETED', 'leaseUntil', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  completed()
  keepIndexes(ARGV[6])
  return 1
end
if tonumber(f[3]) < tonumber(ARGV[4]) then redis.call('HSET', KEYS[1], 'leaseUntil', ARGV[4]) end
keep(ARGV[5])
keepIndexes(ARGV[5])
return 1`;

const AMEND = `${INDEX}
local f = redis.call('HMGET', KEYS[1], 'status', 'leaseUntil', ARGV[1])
if not f[1] then return 0 end
if f[1] == 'IN_PROGRESS' and tonumber(f[2]) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
chunkWritten(f[3], ARGV[2])
return 1`;

/** ARGV: keepForMs, index entry, createdAt, status, has an UNKNOWN chunk (1/0), then field, value, … */
const RESTORE = `${INDEX}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'createdAt', ARGV[3], 'ix', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('ZADD', ARGV[4] == 'COMPLETED' and KEYS[4] or KEYS[3], ARGV[3], ARGV[2])
if ARGV[5] == '1' then redis.call('ZADD', KEYS[5], ARGV[3], ARGV[2]) else redis.call('ZREM', KEYS[5], ARGV[2]) end
redis.call('ZADD', KEYS[6], 0, ARGV[2])
keepIndexes(ARGV[1])
return 1`;

const FINISH = `${INDEX}
local f = redis.call('HMGET', KEYS[1], 'owner', 'status')
if f[1] ~= ARGV[1] or f[2] ~= 'IN_PROGRESS' then return 0 end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'status', 'COMPLETED', 'leaseUntil', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  completed()
  keepIndexes(ARGV[3])
else
  redis.call('HSET', KEYS[1], 'leaseUntil', '0')
end
return 1`;

/*
 * One page of records, newest first. KEYS[1..5]: the time, IN_PROGRESS, COMPLETED, UNKNOWN and RequestId indexes.
 * ARGV: the index to walk (1-4), RequestId prefix ('' for none), cursor score ('' for none), cursor entry, limit,
 * the records' key prefix, the most entries to look at. Entries whose record is gone are dropped from every index.
 * Answers {next score, next entry, {key, score, entry, fields}...}; running it twice has the effect of once.
 */
const LIST = `
local walk, prefix, atText, cursor = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local limit, records, cap = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local at = tonumber(atText)
local function unindex(entry)
  for i = 1, 5 do redis.call('ZREM', KEYS[i], entry) end
end
local function live(entry)
  local key = string.match(entry, '^.*%z(.*)$')
  if key and redis.call('EXISTS', records .. key) == 1 then return key end
  unindex(entry)
  return nil
end
local function before(score, entry)
  return not at or score < at or (score == at and entry < cursor)
end
local found = {}
local looked = 0
if prefix ~= '' then
  local matches = redis.call('ZRANGEBYLEX', KEYS[5], '[' .. prefix, '[' .. prefix .. '\\255', 'LIMIT', 0, cap)
  for _, entry in ipairs(matches) do
    local score = redis.call('ZSCORE', KEYS[walk], entry)
    if score and before(tonumber(score), entry) then
      local key = live(entry)
      if key then found[#found + 1] = {key, tonumber(score), entry} end
    end
  end
  table.sort(found, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[3] > b[3]) end)
else
  -- Walks down by score; ties at a batch's last score are stepped over by how many of them are still indexed.
  local max, skip, capped, seen = at and atText or '+inf', 0, false, nil
  local size = limit + 17
  while #found <= limit do
    if looked >= cap then capped = true break end
    local batch = redis.call('ZREVRANGEBYSCORE', KEYS[walk], max, '-inf', 'WITHSCORES', 'LIMIT', skip, size)
    if #batch == 0 then break end
    local lastScore, lastEntry, ties = nil, nil, 0
    for i = 1, #batch, 2 do
      local entry, score = batch[i], tonumber(batch[i + 1])
      looked = looked + 1
      local kept = true
      if before(score, entry) then
        local key = live(entry)
        if key then found[#found + 1] = {key, score, entry} else kept = false end
      end
      if score ~= lastScore then ties = 0 end
      if kept then ties = ties + 1 end
      lastScore, lastEntry = score, entry
    end
    skip = (lastScore == tonumber(max)) and (skip + ties) or ties
    max, seen = tostring(lastScore), {lastScore, lastEntry}
    if #batch < 2 * size then break end
  end
  if capped and #found <= limit then found.capped = seen end
end
local out = {'', ''}
for i = 1, math.min(limit, #found) do
  local f = found[i]
  out[#out + 1] = {f[1], tostring(f[2]), f[3], redis.call('HGETALL', records .. f[1])}
end
if #found > limit then
  out[1] = tostring(found[limit][2])
  out[2] = found[limit][3]
elseif found.capped then
  out[1] = tostring(found.capped[1])
  out[2] = found.capped[2]
end
return out`;

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
    else if (field === 'createdAt') record.createdAt = Number(value);
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
 * The five indexes' keys, beside the records (`coupon:idem~idx:time` for the prefix `coupon:idem:`): under the
 * same first part, so an ACL that grants `~coupon:*` covers them, yet outside `${prefix}*`, so that no scan of the
 * records ever meets one (for a prefix that ends with ':', as every prefix the code uses does).
 */
const indexKeys = (prefix: string) =>
  ['time', 'IN_PROGRESS', 'COMPLETED', 'UNKNOWN', 'requestId'].map((name) => `${prefix.replace(/:$/, '')}~idx:${name}`);
const WALKS: Record<ListState | 'all', string> = { all: '1', IN_PROGRESS: '2', COMPLETED: '3', UNKNOWN: '4' };
const listScripts = new WeakMap<RedisClient, ScriptRunner>();

/**
 * One page of `listRecent` as the hashes are stored, for a reader that checks each record itself (one that does
 * not parse is then reported, not the end of the listing).
 */
export async function listRecentHashes(
  client: RedisClient,
  prefix: string,
  query: ListQuery,
): Promise<{ records: Array<{ key: string; flat: string[] }>; next?: ListCursor }> {
  let listPage = listScripts.get(client);
  if (!listPage) {
    listPage = client.script(LIST, { retrySafe: true });
    listScripts.set(client, listPage);
  }
  const run = listPage;
  return guarded('read', async () => {
    const args = [
      WALKS[query.state ?? 'all'],
      query.requestIdPrefix ?? '',
      query.before ? String(query.before.at) : '',
      query.before?.entry ?? '',
      String(query.limit),
      prefix,
      String(MAX_PREFIX_MATCHES),
    ];
    const reply = await run(indexKeys(prefix), args);
    const [nextAt, nextEntry, ...rows] = Array.isArray(reply) ? reply : [];
    const records = rows.flatMap((row) => {
      if (!Array.isArray(row)) return [];
      const [key, , , flat] = row;
      return Array.isArray(flat) && flat.length > 0 ? [{ key: String(key), flat: flat.map(String) }] : [];
    });
    return { records, ...(nextAt ? { next: { at: Number(nextAt), entry: String(nextEntry) } } : {}) };
  });
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
  const keysOf = (key: string) => [prefix + key, ...indexKeys(prefix)];
  const sweepKey = `${prefix.replace(/:$/, '')}~idx:sweep`;
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
          indexEntry(r.op.requestId, key),
          prefix,
        ];
        const reply = await claim([...keysOf(key), sweepKey], args);
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
        const written = (await putChunk(keysOf(key), args)) === 1;
        if (written) await replicated(client, wait);
        return written;
      }),
    finish: (key, owner, completed, ttlMs) =>
      guarded('write', async () => {
        const done = (await finish(keysOf(key), [owner, completed ? '1' : '0', String(ttlMs)])) === 1;
        if (done) await replicated(client, wait);
        return done;
      }),
    restore: (key, record, keepForMs) =>
      guarded('write', async () => {
        const args = [
          String(keepForMs),
          indexEntry(record.op?.requestId ?? '', key),
          String(record.createdAt ?? Date.now()),
          record.status,
          Object.values(record.chunks).some((c) => c.state === 'UNKNOWN') ? '1' : '0',
          ...fieldsOf(record),
        ];
        const restored = (await restore(keysOf(key), args)) === 1;
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
    listRecent: async (query) => {
      const page = await listRecentHashes(client, prefix, query);
      return { ...page, records: page.records.map(({ key, flat }) => ({ key, record: toRecord(flat) })) };
    },
    amendChunk: (key, chunk, record, now) =>
      guarded(
        'write',
        async () => (await amend(keysOf(key), [`c:${chunk}`, JSON.stringify(record), String(now)])) === 1,
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
