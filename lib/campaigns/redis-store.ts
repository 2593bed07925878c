import type { Reply } from '../redis/resp.js';
import { guarded, type RedisClient } from '../redis/connect.js';
import { afterPlanning, CAMPAIGN_STATES, control, settled, type CampaignRecord, type CampaignState } from './state.js';
import type { CampaignStore } from './store.js';

/*
 * Per campaign, three hashes in one cluster slot: the record `coupon:campaign:{id}`, the planned marks
 * `…:planned` (chunk → recipients) and the results `…:chunks` (chunk → "sent,failed,unknown"). Counting is one
 * Lua step with HSETNX, so a chunk finishing twice (an FC retry, a lost reply retried) is counted once. State
 * changes are decided by the pure rules in state.ts and written by compare-and-set, so they live in one place.
 */

/** KEYS[2]: the index of campaigns by start time (the operations page lists the newest), written in the same step. */
const START = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, redis.call('HGETALL', KEYS[1])} end
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'startedAt'), redis.call('HGET', KEYS[1], 'campaignId'))
return {1, redis.call('HGETALL', KEYS[1])}`;

const FINISH_PLANNING = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if redis.call('HGET', KEYS[1], 'planningDone') ~= '1' then
  redis.call('HSET', KEYS[1], 'total', ARGV[1], 'totalCents', ARGV[2], 'chunks', ARGV[3], 'planningDone', '1')
end
return redis.call('HGETALL', KEYS[1])`;

const MARK_PLANNED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'planned', ARGV[2])
return 1`;

const RECORD_CHUNK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2] .. ',' .. ARGV[3] .. ',' .. ARGV[4]) == 0 then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('HINCRBY', KEYS[1], 'sent', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'failed', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'unknown', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'chunksDone', 1)
return {1, redis.call('HGETALL', KEYS[1])}`;

const SET_STATE = `
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return {0, redis.call('HGETALL', KEYS[1])} end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
if ARGV[1] == 'PAUSED' and (ARGV[2] == 'RUNNING' or ARGV[2] == 'PLANNING') then redis.call('HINCRBY', KEYS[1], 'resumes', 1) end
return {1, redis.call('HGETALL', KEYS[1])}`;

/** Compare-and-set attempts before a state change gives up (each lost race means another change landed). */
const CAS_ATTEMPTS = 8;

const isState = (s: string | undefined): s is CampaignState => CAMPAIGN_STATES.some((x) => x === s);

function recordOf(reply: Reply): CampaignRecord | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) f.set(String(reply[i]), String(reply[i + 1]));
  const state = f.get('state');
  if (!isState(state)) return undefined;
  const n = (name: string) => Number(f.get(name) ?? 0);
  return {
    campaignId: f.get('campaignId') ?? '',
    state,
    listSha256: f.get('listSha256') ?? '',
    planningDone: f.get('planningDone') === '1',
    total: n('total'),
    totalCents: n('totalCents'),
    chunks: n('chunks'),
    planned: n('planned'),
    sent: n('sent'),
    failed: n('failed'),
    unknown: n('unknown'),
    chunksDone: n('chunksDone'),
    resumes: n('resumes'),
    startedAt: n('startedAt'),
  };
}

function pair(reply: Reply): [boolean, CampaignRecord | undefined] {
  if (!Array.isArray(reply) || reply.length < 2) return [false, undefined];
  const [flag, fields] = reply;
  return [flag === 1, recordOf(fields ?? null)];
}

export function redisCampaignStore(client: RedisClient, prefix = 'coupon:campaign:'): CampaignStore {
  const start = client.script(START);
  const finish = client.script(FINISH_PLANNING);
  const mark = client.script(MARK_PLANNED);
  const record = client.script(RECORD_CHUNK);
  const setState = client.script(SET_STATE);
  const key = (id: string) => `${prefix}{${id}}`;
  // Beside the campaign keys, never matched by a scan of them: `coupon:campaign~recent`.
  const recentKey = `${prefix.replace(/:$/, '')}~recent`;

  /** Moves the state to what `next` says from the current record, by compare-and-set, retrying lost races. */
  async function moveState(
    id: string,
    current: CampaignRecord,
    next: (r: CampaignRecord) => CampaignState,
  ): Promise<CampaignRecord> {
    let r = current;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const target = next(r);
      if (target === r.state) return r;
      const [ok, after] = pair(await setState([key(id)], [r.state, target]));
      if (!after) throw new Error(`campaign ${id} vanished during a state change`);
      if (ok) return after;
      r = after;
    }
    throw new Error(`campaign ${id}: the state kept changing under a state change`);
  }

  return {
    start: (c) =>
      guarded('campaign start', async () => {
        const fields = {
          campaignId: c.campaignId,
          listSha256: c.listSha256,
          startedAt: String(c.startedAt),
          state: 'PLANNING',
          planningDone: '0',
        };
        const [created, r] = pair(await start([key(c.campaignId), recentKey], Object.entries(fields).flat()));
        if (!r) throw new Error('the campaign record is unreadable');
        if (created) return { outcome: 'created', record: r };
        return { outcome: r.listSha256 === c.listSha256 ? 'existing' : 'conflict', record: r };
      }),
    recent: (limit) =>
      guarded('campaign list', async () => {
        const ids = await client.call('ZREVRANGE', recentKey, '0', String(Math.max(0, limit - 1)));
        const found: CampaignRecord[] = [];
        for (const id of Array.isArray(ids) ? ids : []) {
          const r = typeof id === 'string' ? recordOf(await client.call('HGETALL', key(id))) : undefined;
          if (r) found.push(r);
        }
        return found;
      }),
    get: (id) =>
      guarded('campaign read', async () => {
        const r = recordOf(await client.call('HGETALL', key(id)));
        // A process that counted the last chunk and died before settling leaves the state to be settled here.
        return r === undefined ? undefined : moveState(id, r, settled);
      }),
    finishPlanning: (id, totals) =>
      guarded('campaign planning', async () => {
        const r = recordOf(await finish([key(id)], [totals.total, totals.totalCents, totals.chunks].map(String)));
        if (!r) return undefined;
        return moveState(id, r, (x) => settled({ ...x, state: afterPlanning(x.state) }));
      }),
    markPlanned: (id, n, recipients) =>
      guarded('campaign planned mark', async () => {
        return (await mark([key(id), `${key(id)}:planned`], [String(n), String(recipients)])) === 1;
      }),
    recordChunk: (id, n, o) =>
      guarded('campaign chunk result', async () => {
        const args = [n, o.sent, o.failed, o.unknown].map(String);
        const [counted, r] = pair(await record([key(id), `${key(id)}:chunks`], args));
        if (!r) return undefined;
        return { counted, record: await moveState(id, r, settled) };
      }),
    control: (id, action) =>
      guarded('campaign control', async () => {
        let r = recordOf(await client.call('HGETALL', key(id)));
        if (!r) return undefined;
        for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
          const t = control(r, action);
          if (!t.ok) return { ...t, record: r };
          const [ok, after]: [boolean, CampaignRecord | undefined] =
            t.state === r.state ? [true, r] : pair(await setState([key(id)], [r.state, t.state]));
          if (!after) return undefined;
          if (ok) {
            const final = await moveState(id, after, settled);
            return { ok: true, state: final.state, record: final };
          }
          r = after;
        }
        throw new Error(`campaign ${id}: the state kept changing under ${action}`);
      }),
    countedChunks: (id) =>
      guarded('campaign chunk list', async () => {
        const reply = await client.call('HKEYS', `${key(id)}:chunks`);
        return Array.isArray(reply) ? reply.map(Number) : [];
      }),
  };
}
