import { guarded, type RedisClient } from '../redis/connect.js';
import type { BudgetLedger } from './ledger.js';

/** Reserve only within the limit, in one step: concurrent instances can never exceed it together. */
const RESERVE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, used} end
local now = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, now}`;

const RELEASE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local left = redis.call('DECRBY', KEYS[1], ARGV[1])
if left < 0 then redis.call('SET', KEYS[1], '0', 'KEEPTTL') end
return left`;

/** The daily budget in Redis: one counter of cents per seller and day, next to the idempotency records. */
export function redisBudgetLedger(client: RedisClient, prefix = 'coupon:budget:'): BudgetLedger {
  const reserve = client.script(RESERVE);
  const release = client.script(RELEASE);
  return {
    reserve: (key, cents, limitCents, ttlMs) =>
      guarded('budget', async () => {
        const reply = await reserve([prefix + key], [String(cents), String(limitCents), String(ttlMs)]);
        const [granted, used] = Array.isArray(reply) ? reply : [];
        return { granted: granted === 1, usedCents: Number(used) };
      }),
    release: (key, cents) =>
      guarded('budget', async () => {
        await release([prefix + key], [String(cents)]);
      }),
    used: (key) => guarded('budget', async () => Number((await client.call('GET', prefix + key)) ?? 0)),
  };
}
