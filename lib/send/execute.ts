import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { claimOperation } from '../idempotency/claim.js';
import { IdempotencyError } from '../idempotency/errors.js';
import type { OperationClaim } from '../idempotency/operation-claim.js';
import type { ChunkRecord, IdempotencyStore } from '../idempotency/types.js';
import type { Logger } from '../log.js';
import type { Operation, RecipientResult } from '../operation.js';
import { runPool } from '../pool.js';
import { maskUid } from '../redact.js';
import { buildSendCouponForm, chunkRequestId } from '../resellertrade/form.js';
import { verdictOf, type Verdict } from '../verdict.js';
import { deadlineOutcome, reserveSlot, sendChunk, type ChunkSendContext } from './chunk.js';
import { dryRun } from './dry-run.js';
import { chunkCount, chunkRecipients, chunkRecordFor, isTerminal, recipientResults } from './results.js';

export interface ExecuteContext extends Omit<ChunkSendContext, 'logger'> {
  config: Config;
  store: IdempotencyStore;
  logger: Logger;
}

/** An operation that reached the executor: every recipient's result and the verdict on them. */
export interface ExecutedOperation {
  operation: Operation;
  results: RecipientResult[];
  verdict: Verdict;
  replayed: boolean;
}

const STATUS_OF: Record<IdempotencyError['code'], number> = {
  RequestInProgress: 409,
  IdempotencyKeyReused: 422,
  IdempotencyStoreUnavailable: 503,
};

/** An idempotency refusal as the answer layer's error: nothing was sent. */
function refusal(err: IdempotencyError, op: Operation): AppError {
  const message =
    err.code === 'IdempotencyStoreUnavailable'
      ? `The idempotency store cannot be used (${err.message}); nothing was sent. Retry later with the same RequestId.`
      : err.message;
  return new AppError(STATUS_OF[err.code], err.code, message, {
    requestId: op.requestId,
    retryable: err.code !== 'IdempotencyKeyReused',
    ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }),
    cause: err,
  });
}

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
    });
  } catch (err) {
    if (err instanceof IdempotencyError) throw refusal(err, op);
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
      throw refusal(
        new IdempotencyError('IdempotencyStoreUnavailable', claim.failure, 5, { cause: claim.failureCause }),
        op,
      );
    }
    const { proven, settled, sentAny } = await sendOwedChunks(op, claim, ctx, log);
    completed = settled;
    if (claim.failure !== undefined && !sentAny && Object.keys(proven).length === 0) {
      throw refusal(
        new IdempotencyError('IdempotencyStoreUnavailable', claim.failure, 5, { cause: claim.failureCause }),
        op,
      );
    }
    const chunks = await claim.latest(proven);
    const outcome = executed(op, recipientResults(op, claim.chunkSize, chunks), false);
    log.debug('operation result', { Code: outcome.verdict.code, status: outcome.verdict.httpStatus, completed });
    return outcome;
  } finally {
    await claim.finish(completed, log);
  }
}

interface ChunksOutcome {
  /** What this delivery's own calls proved, chunk by chunk (SENT, FAILED, UNKNOWN). */
  proven: Record<number, ChunkRecord>;
  /** Every chunk of the operation is terminal: the record can be completed. */
  settled: boolean;
  sentAny: boolean;
}

async function sendOwedChunks(
  op: Operation,
  claim: OperationClaim,
  ctx: ExecuteContext,
  log: Logger,
): Promise<ChunksOutcome> {
  const size = claim.chunkSize;
  const count = chunkCount(op, size);
  const chunks: Record<number, ChunkRecord> = { ...claim.found };
  const proven: Record<number, ChunkRecord> = {};
  for (const [n, record] of Object.entries(claim.found)) {
    if (record.state === 'SENDING') chunks[Number(n)] = { ...record, state: 'UNKNOWN' };
  }
  const owed = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !isTerminal(chunks[n]));
  let sentAny = false;

  await runPool(owed, ctx.config.chunkConcurrency, async (n) => {
    if (claim.failure !== undefined) return;
    const recipients = chunkRecipients(op, size, n);
    const upstreamRequestId = chunkRequestId(op.requestId, n, count);
    const fields = { chunk: n, chunks: count, recipients: recipients.length, upstreamRequestId };
    let announced = false;
    try {
      const form = buildSendCouponForm(op, recipients, upstreamRequestId);
      const slot = await reserveSlot(ctx);
      if (slot === undefined) {
        chunks[n] = chunkRecordFor(deadlineOutcome(0), recipients, upstreamRequestId, ctx.now());
        log.warn('chunk not attempted: not enough time left before the function timeout', fields);
        return;
      }
      const journal = {
        sending: async (callMs: number) => (announced = await claim.sending(n, upstreamRequestId, callMs)),
        pending: async (refused: Parameters<typeof chunkRecordFor>[0], waitMs: number) => {
          announced = false;
          await claim.owe(n, chunkRecordFor(refused, recipients, upstreamRequestId, ctx.now()), waitMs);
        },
      };
      const sent = await sendChunk({ ...ctx, logger: log }, journal, form, slot, fields);
      if ('unrecorded' in sent) {
        chunks[n] = chunkRecordFor(deadlineOutcome(0), recipients, upstreamRequestId, ctx.now());
        log.error('chunk not sent: the idempotency store could not record it first', {
          ...fields,
          storeError: claim.failure,
        });
        return;
      }
      if (sent.attempts > 0) sentAny = true;
      const record = chunkRecordFor(sent.outcome, recipients, upstreamRequestId, ctx.now());
      chunks[n] = record;
      if (isTerminal(record)) proven[n] = record;
      if (record.state === 'UNKNOWN') {
        log.error('chunk outcome UNKNOWN: never re-sent automatically; check these recipients with GetCouponPage', {
          ...fields,
          SellerId: op.sellerId.digits,
          TemplateId: op.templateId.digits,
          Code: record.code,
          Message: record.message,
          uids: recipients.map((r) => maskUid(r.uid.digits)),
          firstRecipientIndex: (n - 1) * size,
        });
      }
      if (!(await claim.settle(n, record, ctx.timeoutMs))) {
        log.error('chunk outcome could not be recorded; the next delivery will report it UNKNOWN and not re-send it', {
          ...fields,
          storeError: claim.failure,
        });
      }
    } catch (err) {
      // Unexpected: if a request may have left, the chunk is UNKNOWN (never re-sent); otherwise it stays owed.
      const detail = err instanceof Error ? err.message : String(err);
      const base = { upstreamRequestId, code: 'InternalError', at: ctx.now() };
      const record: ChunkRecord = announced
        ? {
            ...base,
            state: 'UNKNOWN',
            message: 'an internal error occurred while this chunk was being sent; check with GetCouponPage',
          }
        : {
            ...base,
            state: 'PENDING',
            message:
              'an internal error stopped this chunk before it was sent; it is sent when the same operation is delivered again',
          };
      chunks[n] = record;
      if (announced) {
        sentAny = true;
        proven[n] = record;
      }
      log.error('chunk failed unexpectedly', { ...fields, state: record.state, error: detail });
      await claim.settle(n, record, ctx.timeoutMs);
    }
  });
  const settled = Array.from({ length: count }, (_, i) => i + 1).every((n) => isTerminal(chunks[n]));
  return { proven, settled, sentAny };
}
