import { guarded, type RedisClient } from '../redis/connect.js';
import { NO_REPLICA_WAIT, replicated, type ReplicaWait } from '../idempotency/replica-wait.js';
import type { BudgetLedger } from './ledger.js';

/*
 * Per seller and day: a counter of cents (KEYS[1]) and a hash of reservations by id (KEYS[2]), each
 * `R|<cents>|<owner>` while held and `F|<cents>|<owner>` once given back. Both keys share a hash tag, so a
 * script may touch both on Redis Cluster too. Each script is one atomic step and safe to run twice.
 */
const HELD = `
local function held(id)
  local v = redis.call('HGET', KEYS[2], id)
  if not v then return nil end
  local state, cents, owner = string.match(v, '^(%u)|(%d+)|(.*)$')
  return {state = state, cents = cents, owner = owner}
end`;

/** ARGV: id, owner, cents, limit, ttl. A held id changes owner without being counted twice. */
const RESERVE = `${HELD}
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local h = held(ARGV[1])
if h and h.state == 'R' then
  redis.call('HSET', KEYS[2], ARGV[1], 'R|' .. h.cents .. '|' .. ARGV[2])
  return {1, used}
end
if used + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return {0, used} end
local now = redis.call('INCRBY', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], 'R|' .. ARGV[3] .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {1, now}`;

/** ARGV: id, owner. Only a reservation this owner holds is given back, and only once. */
const RELEASE = `${HELD}
local h = held(ARGV[1])
if not h or h.state ~= 'R' or h.owner ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], 'F|' .. h.cents .. '|' .. h.owner)
local left = redis.call('DECRBY', KEYS[1], h.cents)
if left < 0 then redis.call('SET', KEYS[1], '0', 'KEEPTTL') end
return 1`;

/** The daily budget in Redis, next to the idempotency records (and on the same connection). */
export function redisBudgetLedger(
  client: RedisClient,
  prefix = 'coupon:budget:',
  wait: ReplicaWait = NO_REPLICA_WAIT,
): BudgetLedger {
  // Both scripts are keyed by the reservation id, so running one twice has the effect of once: the client may
  // send them again on a new connection when the first dropped before any reply.
  const reserve = client.script(RESERVE, { retrySafe: true });
  const release = client.script(RELEASE, { retrySafe: true });
  const keys = (key: string) => [`${prefix}{${key}}`, `${prefix}{${key}}:r`];
  return {
    reserve: (key, ref, cents, limitCents, ttlMs) =>
      guarded('budget', async () => {
        const args = [ref.id, ref.owner, String(cents), String(limitCents), String(ttlMs)];
        const reply = await reserve(keys(key), args);
        const [granted, used] = Array.isArray(reply) ? reply : [];
        if (granted === 1) await replicated(client, wait);
        return { granted: granted === 1, usedCents: Number(used) };
      }),
    release: (key, ref) =>
      guarded('budget', async () => {
        const gaveBack = (await release(keys(key), [ref.id, ref.owner])) === 1;
        await replicated(client, wait);
        return gaveBack;
      }),
    used: (key) => guarded('budget', async () => Number((await client.call('GET', keys(key)[0] ?? '')) ?? 0)),
  };
}
