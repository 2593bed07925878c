import type { Logger } from '../log.js';
import type { ChunkTask } from './chunk-operation.js';
import type { CampaignServices } from './services.js';
import { admitCampaign, startCampaign, type StartDeps } from './start.js';
import { CHUNK_FUNCTION, roundChunkTaskId, type PlannerTask } from './tasks.js';

export type PlannerResult =
  | { campaignId: string; refused: { code: string; message: string } }
  | { campaignId: string; state: string; submitted: number };

/** The dependencies of admit/start on this invocation's services. */
export function startDeps(
  s: CampaignServices,
  bucket: StartDeps['bucket'],
  sellerId: string,
): Omit<StartDeps, 'submit'> {
  return {
    bucket,
    store: s.store,
    maxCouponAmount: s.runtime.config.maxCouponAmount,
    ...(s.settings.maxCampaignCents === undefined ? {} : { maxCampaignCents: s.settings.maxCampaignCents }),
    remainingBudgetCents: () => s.runtime.budget.remaining(sellerId),
    now: Date.now,
    chunkSize: s.settings.chunkSize,
  };
}

/**
 * The planner (`coupon-campaign`): plans the list again (one streamed read) and submits the chunks of its round
 * as FC asynchronous tasks. The first round and each resume submit every chunk not yet counted while the campaign
 * is RUNNING; a rerun of the same round (a crash, an FC retry) is refused chunk by chunk by FC (409). The cancel
 * round submits every uncounted chunk once more so that each counts what it had sent before the cancel.
 */
export async function runPlanner(task: PlannerTask, s: CampaignServices, log: Logger): Promise<PlannerResult> {
  const { start, round } = task;
  const id = start.campaignId;
  const bucket = await s.bucket(start.bucket);
  const deps = startDeps(s, bucket, start.sellerId.digits);
  const counted = new Set(round === 'start' ? [] : await s.store.countedChunks(id));
  const submitOne = async (t: ChunkTask) => {
    if (counted.has(t.chunk.n)) return 'exists' as const;
    return s.submit(CHUNK_FUNCTION, roundChunkTaskId(id, t.chunk.n, round), t);
  };

  if (round === 'cancel') {
    const admitted = await admitCampaign(start, deps);
    if (admitted.kind === 'refused') return { campaignId: id, refused: admitted };
    let submitted = 0;
    for (const chunk of admitted.chunks)
      if ((await submitOne({ campaign: { ...start, format: admitted.plan.format }, chunk })) === 'submitted')
        submitted += 1;
    log.info('campaign cancel round submitted', { CampaignId: id, submitted });
    return { campaignId: id, state: admitted.record.state, submitted };
  }

  const outcome = await startCampaign(start, { ...deps, submit: (_taskId, t) => submitOne(t) });
  if (outcome.kind === 'refused') {
    log.warn('campaign not planned', { CampaignId: id, Code: outcome.code, Message: outcome.message });
    return { campaignId: id, refused: outcome };
  }
  log.info('campaign planned', {
    CampaignId: id,
    state: outcome.record.state,
    chunks: outcome.plan.chunks,
    submitted: outcome.submitted,
  });
  return { campaignId: id, state: outcome.record.state, submitted: outcome.submitted };
}
