import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { idempotencyRefusal } from '../errors.js';
import type { DailyBudget } from '../guardrails/guardrails.js';
import { claimOperation } from '../idempotency/claim.js';
import { IdempotencyError } from '../idempotency/errors.js';
import type { OperationClaim } from '../idempotency/operation-claim.js';
import type { IdempotencyStore } from '../idempotency/types.js';
import type { Logger } from '../log.js';
import type { Operation, RecipientResult } from '../operation.js';
import { verdictOf, type Verdict } from '../verdict.js';
import type { ChunkSendContext } from './chunk.js';
import { dryRun } from './dry-run.js';
import { sendOwedChunks } from './owed-chunks.js';
import { recipientResults } from './results.js';

export interface ExecuteContext extends Omit<ChunkSendContext, 'logger'> {
  config: Config;
  store: IdempotencyStore;
  budget: DailyBudget;
  logger: Logger;
}

/** An operation that reached the executor: every recipient's result and the verdict on them. */
export interface ExecutedOperation {
  operation: Operation;
  results: RecipientResult[];
  verdict: Verdict;
  replayed: boolean;
  /** DRY_RUN: validated and checked, nothing sent (the answer says `"dryRun": true`). */
  dryRun?: boolean;
}

const storeFailed = (claim: OperationClaim) =>
  new IdempotencyError('IdempotencyStoreUnavailable', claim.failure ?? 'the store failed', 5, {
    cause: claim.failureCause,
  });

export const executed = (operation: Operation, results: RecipientResult[], replayed: boolean): ExecutedOperation => ({
  operation,
  results,
  verdict: verdictOf(results),
  replayed,
});

/**
 * Executes one operation exactly once across deliveries: claim it, send every chunk still owed (each marked
 * SENDING in the store before its request leaves, so a crash can only ever turn it UNKNOWN, never into a second
 * send), record each outcome, then complete the record or release it for the next delivery. Once a chunk may
 * have been sent, nothing thrown can replace the per-recipient answer.
 */
export async function executeOperation(op: Operation, ctx: ExecuteContext): Promise<ExecutedOperation> {
  const log = ctx.logger.child({ RequestId: op.requestId });
  if (ctx.config.dryRun) return dryRun(op, { ...ctx, logger: log });

  const clock = { now: ctx.now, deadline: ctx.deadline };
  let claim;
  try {
    claim = await claimOperation(ctx.store, op, {
      owner: randomUUID(),
      chunkSize: ctx.config.chunkSize,
      ttlMs: ctx.config.idempotencyTtlSeconds * 1000,
      idleMs: ctx.timeoutMs,
      clock,
      log,
    });
  } catch (err) {
    if (err instanceof IdempotencyError) throw idempotencyRefusal(err, op.requestId);
    throw err;
  }
  if ('kind' in claim) {
    log.info('replayed a completed operation', { idempotencyKey: claim.key });
    return executed(op, recipientResults(op, claim.chunkSize, claim.chunks), true);
  }
  let completed = false;
  try {
    await claim.interruptStale(log, ctx.timeoutMs);
    if (claim.failure !== undefined) {
      throw idempotencyRefusal(storeFailed(claim), op.requestId);
    }
    const { known, settled, sentAny } = await sendOwedChunks(op, claim, ctx, log);
    // Completed only once the store holds every outcome: a record completed over a chunk it still calls
    // SENDING would answer every replay UNKNOWN for a coupon that was sent.
    const recorded = await claim.recordAgain(ctx.timeoutMs);
    if (!recorded) log.error('not every chunk outcome could be recorded: the operation is not completed', { settled });
    completed = settled && recorded;
    if (claim.failure !== undefined && !sentAny && !Object.values(known).some((r) => r.state !== 'PENDING')) {
      throw idempotencyRefusal(storeFailed(claim), op.requestId);
    }
    const chunks = await claim.latest(known, settled);
    const outcome = executed(op, recipientResults(op, claim.chunkSize, chunks), false);
    log.debug('operation result', { Code: outcome.verdict.code, status: outcome.verdict.httpStatus, completed });
    return outcome;
  } finally {
    await claim.finish(completed, log);
  }
}
