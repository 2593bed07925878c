import type { InvalidLine } from './chunk.js';
import type { CampaignStart } from './start.js';
import { countsOf, etaSeconds, type CampaignRecord, type Counts } from './state.js';

export const PLANNER_FUNCTION = 'coupon-campaign';
export const CHUNK_FUNCTION = 'coupon-campaign-chunk';

/**
 * Which submission round a planner run makes: the first, the k-th resume, or the cancel round that lets every
 * uncounted chunk count what it had sent. Each round has task ids of its own, so FC refuses a repeat of the same
 * round (409) but a resume can submit again what a pause left unfinished.
 */
export type Round = 'start' | 'cancel' | { resume: number };

export interface PlannerTask {
  start: CampaignStart;
  round: Round;
}

const suffix = (round: Round): string => (round === 'start' ? '' : round === 'cancel' ? '-x' : `-r${round.resume}`);

export const plannerTaskId = (campaignId: string, round: Round): string =>
  `${campaignId}-plan${round === 'start' ? '' : round === 'cancel' ? '-x' : `-${round.resume}`}`;

/** `<CampaignId>-c<n>`, then `-r<k>` for the k-th resume and `-x` for the cancel round. */
export const roundChunkTaskId = (campaignId: string, n: number, round: Round): string =>
  `${campaignId}-c${n}${suffix(round)}`;

/** What the bucket keeps of a campaign besides its results: how it was started and the lines it refused. */
export interface CampaignManifest {
  start: CampaignStart;
  invalidLines: InvalidLine[];
  invalidCount: number;
}

export const manifestKey = (prefix: string, campaignId: string): string =>
  `${prefix.replace(/\/?$/, '/')}${campaignId}/campaign.json`;

export type CampaignView = Counts & {
  campaignId: string;
  state: CampaignRecord['state'];
  invalidLines?: InvalidLine[];
  startedAt: string;
  eta?: string;
};

/** The progress object of GET /campaigns/{id}; `eta` while recipients are still to be sent at the quota. */
export function campaignView(
  record: CampaignRecord,
  recipientsPerSecond: number,
  now: number,
  invalidLines?: InvalidLine[],
): CampaignView {
  const counts = countsOf(record);
  const view: CampaignView = {
    campaignId: record.campaignId,
    state: record.state,
    ...counts,
    startedAt: new Date(record.startedAt).toISOString(),
  };
  if (invalidLines && invalidLines.length > 0) view.invalidLines = invalidLines;
  const eta = etaSeconds(counts, recipientsPerSecond);
  if ((record.state === 'RUNNING' || record.state === 'PLANNING') && eta !== undefined && counts.pending > 0)
    view.eta = new Date(now + eta * 1000).toISOString();
  return view;
}
