import {
  afterPlanning,
  control,
  settled,
  type CampaignRecord,
  type ChunkOutcome,
  type ControlAction,
  type Transition,
} from './state.js';

export interface NewCampaign {
  campaignId: string;
  listSha256: string;
  startedAt: number;
}

export type StartResult =
  | { outcome: 'created'; record: CampaignRecord }
  | { outcome: 'existing'; record: CampaignRecord }
  /** The CampaignId is taken by a campaign of another list (422). */
  | { outcome: 'conflict'; record: CampaignRecord };

export interface PlanTotals {
  total: number;
  totalCents: number;
  chunks: number;
}

/**
 * A campaign's record and counts. Every write is one atomic step, and the ones a retry may repeat are
 * put-if-absent: a chunk is marked planned once and its result counted once, however often either arrives.
 */
export interface CampaignStore {
  /** Creates the campaign in PLANNING, or answers the one with this id (same list: existing; other list: conflict). */
  start(campaign: NewCampaign): Promise<StartResult>;
  get(campaignId: string): Promise<CampaignRecord | undefined>;
  /** Planning read the whole list: totals known, PLANNING → RUNNING (a paused campaign stays paused). */
  finishPlanning(campaignId: string, totals: PlanTotals): Promise<CampaignRecord | undefined>;
  /** Chunk n was submitted with `recipients` recipients; true the first time only. */
  markPlanned(campaignId: string, n: number, recipients: number): Promise<boolean>;
  /** Chunk n finished with this outcome; `counted` is true for the first completion only, later ones change nothing. */
  recordChunk(
    campaignId: string,
    n: number,
    outcome: ChunkOutcome,
  ): Promise<{ counted: boolean; record: CampaignRecord } | undefined>;
  /** Leaving PAUSED for PLANNING or RUNNING counts a resume (`resumes`). */
  control(campaignId: string, action: ControlAction): Promise<(Transition & { record?: CampaignRecord }) | undefined>;
  /** The chunks counted so far. */
  countedChunks(campaignId: string): Promise<number[]>;
  /** The newest campaigns first, at most `limit` (the operations page's list): an index, never a scan. */
  recent(limit: number): Promise<CampaignRecord[]>;
}

/** One process's campaigns, for tests and the single-process local stack. */
export function memoryCampaignStore(): CampaignStore {
  const records = new Map<string, CampaignRecord>();
  const planned = new Map<string, Set<number>>();
  const results = new Map<string, Map<number, ChunkOutcome>>();
  const copy = (r: CampaignRecord | undefined) => (r === undefined ? undefined : { ...r });
  return {
    async start(c) {
      const existing = records.get(c.campaignId);
      if (existing)
        return { outcome: existing.listSha256 === c.listSha256 ? 'existing' : 'conflict', record: { ...existing } };
      const record: CampaignRecord = {
        ...c,
        state: 'PLANNING',
        planningDone: false,
        total: 0,
        totalCents: 0,
        chunks: 0,
        planned: 0,
        sent: 0,
        failed: 0,
        unknown: 0,
        chunksDone: 0,
        resumes: 0,
      };
      records.set(c.campaignId, record);
      planned.set(c.campaignId, new Set());
      results.set(c.campaignId, new Map());
      return { outcome: 'created', record: { ...record } };
    },
    async get(id) {
      return copy(records.get(id));
    },
    async recent(limit) {
      return [...records.values()]
        .sort((a, b) => b.startedAt - a.startedAt)
        .slice(0, limit)
        .map((r) => ({ ...r }));
    },
    async finishPlanning(id, totals) {
      const r = records.get(id);
      if (!r) return undefined;
      if (!r.planningDone) {
        Object.assign(r, totals, { planningDone: true, state: afterPlanning(r.state) });
        r.state = settled(r);
      }
      return { ...r };
    },
    async markPlanned(id, n, recipients) {
      const r = records.get(id);
      const marks = planned.get(id);
      if (!r || !marks || marks.has(n)) return false;
      marks.add(n);
      r.planned += recipients;
      return true;
    },
    async recordChunk(id, n, outcome) {
      const r = records.get(id);
      const done = results.get(id);
      if (!r || !done) return undefined;
      if (done.has(n)) return { counted: false, record: { ...r } };
      done.set(n, { ...outcome });
      r.sent += outcome.sent;
      r.failed += outcome.failed;
      r.unknown += outcome.unknown;
      r.chunksDone += 1;
      r.state = settled(r);
      return { counted: true, record: { ...r } };
    },
    async control(id, action) {
      const r = records.get(id);
      if (!r) return undefined;
      const t = control(r, action);
      if (!t.ok) return { ...t, record: { ...r } };
      if (r.state === 'PAUSED' && t.state !== 'PAUSED' && t.state !== 'CANCELLED') r.resumes += 1;
      r.state = t.state;
      r.state = settled(r);
      return { ok: true, state: r.state, record: { ...r } };
    },
    async countedChunks(id) {
      return [...(results.get(id)?.keys() ?? [])];
    },
  };
}

/** Where the local stack puts the one memory campaign store its instances share (as lib/idempotency/memory.ts does). */
export const SHARED_MEMORY_CAMPAIGNS = Symbol.for('coupon-sender.shared-memory-campaigns');

type WithSharedCampaigns = typeof globalThis & { [SHARED_MEMORY_CAMPAIGNS]?: CampaignStore };

export function memoryCampaignStoreOfProcess(): CampaignStore {
  const host = globalThis as WithSharedCampaigns;
  return (host[SHARED_MEMORY_CAMPAIGNS] ??= memoryCampaignStore());
}
