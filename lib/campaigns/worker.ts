import { AppError } from '../errors.js';
import type { FcContext } from '../fc.js';
import { credentialSource } from '../credentials.js';
import type { Logger } from '../log.js';
import type { RecipientResult } from '../operation.js';
import { DEFAULT_RETRY_POLICY } from '../resellertrade/retry.js';
import { executeOperation, type ExecutedOperation, type ExecuteContext } from '../send/execute.js';
import { ChunkMismatch } from './chunk.js';
import { ChunkTaskError, loadChunkOperation, type ChunkTask } from './chunk-operation.js';
import { chunkResultsJsonl, chunkResultsKey } from './results.js';
import type { CampaignServices } from './services.js';
import { outcomeOf, type CampaignState } from './state.js';

export type ChunkResult =
  | { n: number; skipped: CampaignState | 'UNKNOWN_CAMPAIGN' }
  | { n: number; stopped: 'PAUSED' }
  | { n: number; refused: string; counted: boolean }
  | { n: number; sent: number; failed: number; unknown: number; owed: number; counted: boolean };

/** How long a campaign's state seen by the stop check is trusted: a pause stops new calls within this (plus a call). */
const STATE_CACHE_MS = 1000;
/** A redelivery finding the first still running waits for it in steps of this, as long as time allows. */
const IN_PROGRESS_WAIT_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Owed: not sent yet and to be sent by a later delivery (stopped, out of time, over budget) — pending, not failed. */
const isOwed = (r: RecipientResult) => r.status === 'FAILED' && r.retryable === true && r.code !== 'NeverIssued';

/** The campaign state, read at most once a second. */
function stateReader(s: CampaignServices, campaignId: string, now: () => number) {
  let cached: { state: CampaignState | undefined; at: number } | undefined;
  return async (): Promise<CampaignState | undefined> => {
    if (!cached || now() - cached.at >= STATE_CACHE_MS)
      cached = { state: (await s.store.get(campaignId))?.state, at: now() };
    return cached.state;
  };
}

export interface ChunkInvocation {
  context: FcContext;
  deadline: number;
  logger: Logger;
}

/**
 * One chunk (`coupon-campaign-chunk`): reads its byte range, re-judges it, runs it as the ordinary operation
 * `<CampaignId>:<n>` through the exactly-once executor, writes its results file and counts it once. A pause or
 * cancel stops it before its next upstream call (the rest stays owed); a paused chunk ends without failing, so FC
 * does not retry it, and a resume submits it again. A chunk left owed for any other reason (the deadline, the
 * daily budget) fails, so FC retries it and, after the retries, tells the on-failure destination.
 */
export async function runChunk(task: ChunkTask, s: CampaignServices, inv: ChunkInvocation): Promise<ChunkResult> {
  const id = task.campaign.campaignId;
  const { n } = task.chunk;
  const log = inv.logger.child({ CampaignId: id, chunk: n });
  const state = stateReader(s, id, Date.now);
  const first = await state();
  if (first === undefined) {
    log.error('chunk of an unknown campaign: nothing sent');
    return { n, skipped: 'UNKNOWN_CAMPAIGN' };
  }
  if (first === 'PAUSED') return { n, stopped: 'PAUSED' };
  if (first === 'COMPLETED') return { n, skipped: first };

  const { runtime } = s;
  const limits = { maxCouponAmount: runtime.config.maxCouponAmount, maxRecipients: runtime.config.maxRecipients };
  let op;
  try {
    op = await loadChunkOperation(await s.bucket(task.campaign.bucket), task, limits);
  } catch (err) {
    if (!(err instanceof ChunkMismatch) && !(err instanceof ChunkTaskError)) throw err;
    // Nothing of a list that changed is sent: the chunk's recipients count as failed, once.
    log.error('chunk refused: nothing sent', { error: err.message });
    const failed = { sent: 0, failed: task.chunk.recipients, unknown: 0 };
    const counted = (await s.store.recordChunk(id, n, failed))?.counted ?? false;
    return { n, refused: err.message, counted };
  }

  const credentials = credentialSource(inv.context, runtime.env);
  const ctx: ExecuteContext = {
    config: runtime.config,
    store: runtime.store,
    budget: runtime.budget,
    client: runtime.client,
    // Campaign chunks are bulk work: interactive sends go ahead of them on the shared quota.
    limiter: runtime.quota.limiter(op.sellerId.digits, 'bulk'),
    policy: { ...DEFAULT_RETRY_POLICY, maxAttempts: runtime.config.upstreamMaxAttempts },
    credentials,
    timeoutMs: runtime.config.upstreamTimeoutMs,
    deadline: inv.deadline,
    logger: log,
    now: Date.now,
    sleep,
    random: Math.random,
    shouldStop: async () => {
      const now = await state();
      return now !== 'RUNNING' && now !== 'PLANNING';
    },
  };
  let executed: ExecutedOperation | undefined;
  while (!executed) {
    try {
      executed = await executeOperation(op, ctx);
    } catch (err) {
      // The same chunk still running elsewhere (a resume's resubmission meeting the paused run's tail): wait.
      if (!(err instanceof AppError) || err.code !== 'RequestInProgress') throw err;
      if (Date.now() + IN_PROGRESS_WAIT_MS * 2 > inv.deadline) throw err;
      await sleep(IN_PROGRESS_WAIT_MS);
    }
  }
  const owed = executed.results.filter(isOwed).length;
  const now = await state();
  if (owed > 0 && now === 'PAUSED') {
    log.info('chunk stopped by a pause: its owed recipients are sent after resume', { owed });
    return { n, stopped: 'PAUSED' };
  }
  if (owed > 0 && now !== 'CANCELLED') {
    const code = executed.results.find(isOwed)?.code ?? 'NotAttempted';
    throw new Error(`chunk ${n} left ${owed} recipients owed (${code}); it is retried`);
  }
  // Settled, or cancelled: what was sent is final, and the owed recipients stay pending for good.
  const resultsKey = chunkResultsKey(s.settings.prefix, id, n);
  await (await s.bucket(s.settings.bucket)).put(resultsKey, chunkResultsJsonl(op, executed.results));
  const outcome = outcomeOf(executed.results.map((r) => (isOwed(r) ? 'PENDING' : r.status)));
  const counted = (await s.store.recordChunk(id, n, outcome))?.counted ?? false;
  log.info('chunk finished', { ...outcome, owed, counted, replayed: executed.replayed, resultsKey });
  return { n, ...outcome, owed, counted };
}
