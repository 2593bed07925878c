/**
 * A campaign's life and its progress counts, as pure functions; the stores apply them atomically.
 *
 *   PLANNING ──planned──▶ RUNNING ──every chunk counted──▶ COMPLETED
 *       │  ▲                 │  ▲
 *     pause│resume         pause│resume          (PAUSED remembers whether planning had finished)
 *       ▼  │                 ▼  │
 *       PAUSED ───────────── PAUSED ──every chunk counted──▶ COMPLETED
 *   PLANNING, RUNNING, PAUSED ──cancel──▶ CANCELLED (final: counts stop where they are)
 */

export const CAMPAIGN_STATES = ['PLANNING', 'RUNNING', 'PAUSED', 'CANCELLED', 'COMPLETED'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export type ControlAction = 'pause' | 'resume' | 'cancel';

/** The counts of the contract's progress object: every valid recipient is in exactly one of sent/failed/unknown/pending. */
export interface Counts {
  total: number;
  /** Recipients in chunks submitted for execution so far. */
  planned: number;
  sent: number;
  failed: number;
  unknown: number;
  pending: number;
}

export interface ChunkOutcome {
  sent: number;
  failed: number;
  unknown: number;
}

/** What a store keeps per campaign (besides one result per chunk and one planned mark per chunk). */
export interface CampaignRecord {
  campaignId: string;
  state: CampaignState;
  /** SHA-256 of the list object: the same CampaignId with another list is refused. */
  listSha256: string;
  /** Known once planning has read the whole list. */
  planningDone: boolean;
  total: number;
  totalCents: number;
  chunks: number;
  planned: number;
  sent: number;
  failed: number;
  unknown: number;
  chunksDone: number;
  /** How often the campaign left PAUSED: a resume's submissions get task ids of their own (`-r<resumes>`). */
  resumes: number;
  /** Milliseconds since the epoch. */
  startedAt: number;
}

export type Transition = { ok: true; state: CampaignState } | { ok: false; reason: string };

const FINAL: ReadonlySet<CampaignState> = new Set(['CANCELLED', 'COMPLETED']);

export const isFinal = (state: CampaignState): boolean => FINAL.has(state);

/** pause/resume/cancel from a state; asking for the state a campaign is already in is answered, not refused. */
export function control(record: Pick<CampaignRecord, 'state' | 'planningDone'>, action: ControlAction): Transition {
  const { state } = record;
  if (action === 'cancel') {
    if (state === 'COMPLETED') return { ok: false, reason: 'the campaign has already completed' };
    return { ok: true, state: 'CANCELLED' };
  }
  if (isFinal(state)) return { ok: false, reason: `the campaign is ${state.toLowerCase()}` };
  if (action === 'pause') return { ok: true, state: 'PAUSED' };
  if (state !== 'PAUSED') return { ok: true, state };
  return { ok: true, state: record.planningDone ? 'RUNNING' : 'PLANNING' };
}

/** Planning has read the whole list and cut every chunk. */
export function afterPlanning(state: CampaignState): CampaignState {
  return state === 'PLANNING' ? 'RUNNING' : state;
}

/** Once planning is done and every chunk has been counted, a campaign that was not cancelled has completed. */
export function settled(
  record: Pick<CampaignRecord, 'state' | 'planningDone' | 'chunks' | 'chunksDone'>,
): CampaignState {
  const done = record.planningDone && record.chunksDone >= record.chunks;
  return done && (record.state === 'RUNNING' || record.state === 'PAUSED') ? 'COMPLETED' : record.state;
}

export function countsOf(record: CampaignRecord): Counts {
  const { total, planned, sent, failed, unknown } = record;
  return { total, planned, sent, failed, unknown, pending: Math.max(0, total - sent - failed - unknown) };
}

/** Seconds until the pending recipients are sent at `recipientsPerSecond` (the configured quota); undefined at no rate. */
export function etaSeconds(counts: Counts, recipientsPerSecond: number): number | undefined {
  if (counts.pending === 0) return 0;
  if (!(recipientsPerSecond > 0)) return undefined;
  return Math.ceil(counts.pending / recipientsPerSecond);
}

/** The quota as recipients a second: SendCoupon calls a second times the recipients one call carries. */
export const recipientsPerSecond = (callsPerSecond: number, recipientsPerCall: number): number =>
  callsPerSecond * recipientsPerCall;

/** A chunk's outcome from its per-recipient statuses (DRY_RUN never reaches a campaign; it counts as nothing). */
export function outcomeOf(statuses: Iterable<string>): ChunkOutcome {
  const outcome: ChunkOutcome = { sent: 0, failed: 0, unknown: 0 };
  for (const status of statuses) {
    if (status === 'SENT') outcome.sent += 1;
    else if (status === 'FAILED') outcome.failed += 1;
    else if (status === 'UNKNOWN') outcome.unknown += 1;
  }
  return outcome;
}
