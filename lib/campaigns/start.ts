import { createHash } from 'node:crypto';
import { fromCents } from '../guardrails/cents.js';
import type { Bucket } from './bucket.js';
import type { ChunkPlan, InvalidLine } from './chunk.js';
import { CAMPAIGN_ID, chunkTaskId, type CampaignParams, type ChunkTask } from './chunk-operation.js';
import { ListError, planList, type ListPlan } from './plan.js';
import type { CampaignRecord } from './state.js';
import type { CampaignStore } from './store.js';

/** What starting a campaign names: the list's object and what every chunk sends. */
export type CampaignStart = Omit<CampaignParams, 'format'>;

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

export type Refusal = {
  kind: 'refused';
  status: 400 | 422;
  code: string;
  message: string;
  invalidLines?: InvalidLine[];
};

export type StartOutcome =
  Refusal | { kind: 'started' | 'existing'; record: CampaignRecord; plan: ListPlan; submitted: number };

export type AdmitOutcome =
  Refusal | { kind: 'started' | 'existing'; record: CampaignRecord; plan: ListPlan; chunks: ChunkPlan[] };

/**
 * What makes two starts the same campaign: the list's bytes and what every chunk sends. Starting a CampaignId
 * again with the same list and parameters answers the existing campaign; anything else is refused (422).
 */
export function campaignIdentity(start: CampaignStart, listSha256: string): string {
  const parts = [listSha256, start.sellerId.digits, start.templateId.digits, start.fromApp];
  parts.push(start.bid?.digits ?? '', start.operator ?? '');
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

const refused = (status: 400 | 422, code: string, message: string, invalidLines?: InvalidLine[]): Refusal => ({
  kind: 'refused',
  status,
  code,
  message,
  ...(invalidLines === undefined ? {} : { invalidLines }),
});

/**
 * Plans the list (one streamed read) and records the campaign, or finds the one started before under this id:
 * a list that cannot fit the campaign cap or today's budget is refused with the numbers before anything is
 * recorded or sent. The chunks are handed back, in order, for submission.
 */
export async function admitCampaign(start: CampaignStart, deps: Omit<StartDeps, 'submit'>): Promise<AdmitOutcome> {
  if (!CAMPAIGN_ID.test(start.campaignId))
    return refused(
      400,
      'InvalidParameter',
      'CampaignId must be 1-48 characters of A-Z a-z 0-9 _ -, starting with a letter or _',
    );
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

  const identity = campaignIdentity(start, plan.sha256);
  const reused = () =>
    refused(422, 'IdempotencyKeyReused', `campaign ${start.campaignId} was started with another list or parameters`);
  const existing = await deps.store.get(start.campaignId);
  if (existing && existing.listSha256 !== identity) return reused();
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

  const started = await deps.store.start({ campaignId: start.campaignId, listSha256: identity, startedAt: deps.now() });
  if (started.outcome === 'conflict') return reused();
  return { kind: started.outcome === 'created' ? 'started' : 'existing', record: started.record, plan, chunks };
}

/**
 * Starts a campaign, or carries on with the one started before under this id: admits it (admitCampaign), then
 * submits every chunk not yet marked planned, in order, as long as the campaign is RUNNING. Running it again
 * after a crash, or to resume, submits what is still missing: FC refuses a task id it has seen (409), and each
 * chunk is marked planned once.
 */
export async function startCampaign(start: CampaignStart, deps: StartDeps): Promise<StartOutcome> {
  const admitted = await admitCampaign(start, deps);
  if (admitted.kind === 'refused') return admitted;
  const { plan, chunks } = admitted;
  let record =
    (await deps.store.finishPlanning(start.campaignId, {
      total: plan.total,
      totalCents: plan.totalCents,
      chunks: plan.chunks,
    })) ?? admitted.record;

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
  return { kind: admitted.kind, record, plan, submitted };
}
