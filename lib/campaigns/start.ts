import { fromCents } from '../guardrails/cents.js';
import type { ExactId } from '../operation.js';
import type { Bucket } from './bucket.js';
import type { ChunkPlan, InvalidLine } from './chunk.js';
import { CAMPAIGN_ID, chunkTaskId, type CampaignParams, type ChunkTask } from './chunk-operation.js';
import { ListError, planList, type ListPlan } from './plan.js';
import type { CampaignRecord } from './state.js';
import type { CampaignStore } from './store.js';

/** What starting a campaign names: the list's object and what every chunk sends. */
export interface CampaignStart {
  campaignId: string;
  sellerId: ExactId;
  templateId: ExactId;
  fromApp: string;
  bid?: ExactId;
  operator?: string;
  bucket: string;
  key: string;
}

export interface StartDeps {
  /** The bucket named by `start.bucket`. */
  bucket: Bucket;
  store: CampaignStore;
  /**
   * Submits one chunk as an FC asynchronous invocation with the stateful task id; 'exists' when FC refused the id
   * as already used (409), which means the chunk was submitted before.
   */
  submit(taskId: string, task: ChunkTask): Promise<'submitted' | 'exists'>;
  maxCouponAmount: number;
  /** The most one campaign may total, in cents (undefined: no cap). */
  maxCampaignCents?: number;
  /** Today's remaining budget in cents for this seller (undefined: no daily budget). */
  remainingBudgetCents(): Promise<number | undefined>;
  now(): number;
  chunkSize?: number;
}

export type StartOutcome =
  | { kind: 'refused'; status: 400 | 422; code: string; message: string; invalidLines?: InvalidLine[] }
  | { kind: 'started' | 'existing'; record: CampaignRecord; plan: ListPlan; submitted: number };

const refused = (status: 400 | 422, code: string, message: string, invalidLines?: InvalidLine[]): StartOutcome => ({
  kind: 'refused',
  status,
  code,
  message,
  ...(invalidLines === undefined ? {} : { invalidLines }),
});

/**
 * Starts a campaign, or carries on with the one started before under this id: plans the list (one streamed
 * read), refuses it with the numbers when it cannot fit the campaign cap or today's budget (before anything is
 * recorded or sent), then submits every chunk not yet marked planned, in order, as long as the campaign is
 * neither paused nor finished. Running it again after a crash, or to resume, submits what is still missing:
 * FC refuses a task id it has seen (409), and each chunk is marked planned once.
 */
export async function startCampaign(start: CampaignStart, deps: StartDeps): Promise<StartOutcome> {
  if (!CAMPAIGN_ID.test(start.campaignId))
    return refused(400, 'InvalidParameter', 'CampaignId must be 1-48 characters of A-Z a-z 0-9 _ -');
  const chunks: ChunkPlan[] = [];
  let plan: ListPlan;
  try {
    plan = await planList(await deps.bucket.getStream(start.key), {
      maxCouponAmount: deps.maxCouponAmount,
      ...(deps.chunkSize === undefined ? {} : { chunkSize: deps.chunkSize }),
      onChunk: (c) => void chunks.push(c),
    });
  } catch (err) {
    if (err instanceof ListError) return refused(400, 'InvalidList', err.message);
    throw err;
  }
  if (plan.total === 0) return refused(400, 'InvalidList', 'the list holds no valid recipient', plan.invalidLines);

  const existing = await deps.store.get(start.campaignId);
  if (existing && existing.listSha256 !== plan.sha256)
    return refused(422, 'IdempotencyKeyReused', `campaign ${start.campaignId} was started with another list`);
  if (!existing) {
    const total = `${fromCents(plan.totalCents)} for ${plan.total} recipients`;
    if (deps.maxCampaignCents !== undefined && plan.totalCents > deps.maxCampaignCents)
      return refused(
        422,
        'CampaignOverLimit',
        `the list totals ${total}; one campaign may total at most ${fromCents(deps.maxCampaignCents)}`,
      );
    const remaining = await deps.remainingBudgetCents();
    if (remaining !== undefined && plan.totalCents > remaining)
      return refused(
        422,
        'BudgetExceeded',
        `the list totals ${total}; today's remaining budget is ${fromCents(remaining)}`,
      );
  }

  const started = await deps.store.start({
    campaignId: start.campaignId,
    listSha256: plan.sha256,
    startedAt: deps.now(),
  });
  if (started.outcome === 'conflict')
    return refused(422, 'IdempotencyKeyReused', `campaign ${start.campaignId} was started with another list`);
  let record =
    (await deps.store.finishPlanning(start.campaignId, {
      total: plan.total,
      totalCents: plan.totalCents,
      chunks: plan.chunks,
    })) ?? started.record;

  const campaign: CampaignParams = { ...start, format: plan.format };
  let submitted = 0;
  for (const chunk of chunks) {
    const current = await deps.store.get(start.campaignId);
    if (!current || current.state !== 'RUNNING') break;
    record = current;
    if ((await deps.submit(chunkTaskId(start.campaignId, chunk.n), { campaign, chunk })) === 'submitted')
      submitted += 1;
    await deps.store.markPlanned(start.campaignId, chunk.n, chunk.recipients);
  }
  record = (await deps.store.get(start.campaignId)) ?? record;
  return { kind: started.outcome === 'created' ? 'started' : 'existing', record, plan, submitted };
}
