import {
  BULK_HORIZON_US,
  DECREASE,
  INTERACTIVE_MAX_SHARE,
  JITTER_CELLS,
  MAX_PAUSE_US,
  RATE_FLOOR_DIVISOR,
  RECOVERY_SECONDS,
  WAITING_MARK_US,
} from './gcra.js';

/*
 * lib/quota/gcra.ts as Redis scripts over one hash per seller. The clock is Redis TIME, read inside the script:
 * every instance schedules on the same clock, whatever its own says. Times are microseconds, written with
 * %.0f (Lua's tostring keeps only 14 digits). Needs EVAL: DRAM-based Redis/Tair (ESSD/SSD-based Tair has no Lua).
 */
const COMMON = `
-- Before Redis 5, a script may write after TIME only when it replicates its effects, not itself (a no-op since).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local f = redis.call('HMGET', KEYS[1], 'tat', 'tb', 'ti', 'iu', 'bu', 'tk', 'base', 'cut', 'gen')
local s = {}
local names = {'tat', 'tb', 'ti', 'iu', 'bu', 'tk', 'base', 'cut', 'gen'}
for i, name in ipairs(names) do s[name] = tonumber(f[i]) or 0 end
local qps = tonumber(ARGV[1])
local function rate()
  if s.cut == 0 then return qps end
  return math.min(qps, s.base + (qps / ${RECOVERY_SECONDS}) * (now - s.cut) / 1000000)
end
local function save(ttl)
  local out = {}
  for _, name in ipairs(names) do
    out[#out + 1] = name
    out[#out + 1] = string.format(name == 'base' and '%.6f' or '%.0f', s[name])
  end
  redis.call('HSET', KEYS[1], unpack(out))
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local function str(x) return string.format('%.0f', x) end
`;

/** KEYS[1] the seller's hash; ARGV qps, burst, bulkShare, lane (bulk|interactive), maxWaitUs, ticket, ttlMs. */
export const RESERVE = `${COMMON}
local burst, share, bulk = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == 'bulk'
local maxWait, held = tonumber(ARGV[5]), tonumber(ARGV[6])
local interval = 1000000 / rate()
local slot = math.max(now, s.tat - math.max(0, burst - 1 - ${JITTER_CELLS}) * interval)
local otherWaiting, laneInterval, laneTat
if bulk then
  otherWaiting, laneInterval, laneTat = s.iu > now, interval / share, s.tb
else
  otherWaiting, laneInterval, laneTat = s.bu > now, interval / ${INTERACTIVE_MAX_SHARE}, s.ti
end
local capped = otherWaiting and laneTat - laneInterval > slot
local late = slot - now > maxWait
local queued = bulk and held == 0 and s.tk > now
if late or capped or queued or (bulk and slot - now > ${BULK_HORIZON_US}) then
  local retryAt = now
  if late then
    retryAt = slot
  else
    if bulk then retryAt = math.max(retryAt, slot - ${BULK_HORIZON_US}) end
    if capped then retryAt = math.max(retryAt, laneTat - laneInterval) end
    if bulk then
      local spacing = interval
      if otherWaiting then spacing = laneInterval end
      retryAt = math.max(retryAt, s.tk + spacing)
    end
  end
  local retryAfter = retryAt - now
  local waiting = now + math.min(retryAfter, maxWait) + ${WAITING_MARK_US}
  if bulk then
    s.bu = math.max(s.bu, waiting)
    if retryAfter <= maxWait then s.tk = retryAt end
  else
    s.iu = math.max(s.iu, waiting)
  end
  save(ARGV[7])
  return {'0', str(retryAfter), str(retryAt), str(s.gen)}
end
s.tat = math.max(s.tat, now) + interval
local nextLaneTat = slot + laneInterval
if otherWaiting then nextLaneTat = math.max(laneTat, slot) + laneInterval end
if bulk then
  s.tb = nextLaneTat
  s.bu = math.max(s.bu, slot + ${WAITING_MARK_US})
else
  s.ti = nextLaneTat
  s.iu = math.max(s.iu, slot + ${WAITING_MARK_US})
end
save(ARGV[7])
return {'1', str(slot - now), '0', str(s.gen)}`;

/** KEYS[1] the seller's hash; ARGV qps, generation of the throttled call, retryAfterUs, ttlMs, burst. */
export const THROTTLED = `${COMMON}
if tonumber(ARGV[2]) ~= s.gen then return str(s.gen) end
s.base = math.max(qps / ${RATE_FLOOR_DIVISOR}, rate() * ${DECREASE})
s.cut = now
s.gen = s.gen + 1
local interval = 1000000 / s.base
local pause = math.max(interval, math.min(math.max(tonumber(ARGV[3]), 0), ${MAX_PAUSE_US}))
s.tat = math.max(s.tat, now + pause + math.max(0, tonumber(ARGV[5]) - 1 - ${JITTER_CELLS}) * interval)
save(ARGV[4])
return str(s.gen)`;
