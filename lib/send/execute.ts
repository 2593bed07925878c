import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { storeUnavailable } from '../errors.js';
import { claimOperation, contentHash, operationKey, type Claim } from '../idempotency/core.js';
import { StoreError, type ChunkRecord, type IdempotencyStore } from '../idempotency/types.js';
import type { Logger } from '../log.js';
import { maskUid, type Operation, type RecipientResult } from '../operation.js';
import { runPool } from '../pool.js';
import { buildSendCouponForm, chunkRequestId } from '../resellertrade/form.js';
import { summarize, type Summary } from '../summary.js';
import { deadlineOutcome, reserveSlot, sendChunk, type ChunkJournal, type ChunkSendContext } from './chunk.js';
import { chunkCount, chunkRecipients, chunkRecordFor, isTerminal, recipientResults } from './results.js';

export interface ExecuteContext extends Omit<ChunkSendContext, 'logger'> {
  config: Config;
  store: IdempotencyStore;
  logger: Logger;
}

export interface OperationOutcome {
  operation: Operation;
  results: RecipientResult[];
  summary: Summary;
  replayed: boolean;
}

/** How long after the function's own deadline a lease still holds: covers clock skew between instances. */
const LEASE_MARGIN_MS = 5000;

function outcomeOf(op: Operation, results: RecipientResult[], replayed: boolean): OperationOutcome {
  return { operation: op, results, summary: summarize(results), replayed };
}

function dryRun(op: Operation, ctx: ExecuteContext): OperationOutcome {
  const size = ctx.config.chunkSize;
  const count = chunkCount(op, size);
  for (let n = 1; n <= count; n++) {
    const upstreamRequestId = chunkRequestId(op.requestId, n, count);
    const form = buildSendCouponForm(op, chunkRecipients(op, size, n), upstreamRequestId);
    ctx.logger.info('dry run: SendCoupon not sent', {
      upstreamRequestId,
      chunk: n,
      endpoint: ctx.client.endpoint.href,
      form: form.replace(/(Uid=)(\d+)/g, (_m, k: string, uid: string) => `${k}${maskUid(uid)}`),
    });
  }
  return outcomeOf(
    op,
    op.recipients.map(() => ({ status: 'DRY_RUN' })),
    false,
  );
}

/**
 * Executes one operation exactly once across deliveries: claim it, send every chunk still owed (each marked
 * SENDING in the store before its request leaves, so a crash can only ever turn it UNKNOWN, never into a
 * second send), record each outcome, then complete the record or release it for the next delivery.
 */
export async function executeOperation(op: Operation, ctx: ExecuteContext): Promise<OperationOutcome> {
  const log = ctx.logger.child({ RequestId: op.requestId });
  if (ctx.config.dryRun) return dryRun(op, { ...ctx, logger: log });

  const ttlMs = ctx.config.idempotencyTtlSeconds * 1000;
  const claim: Claim = { key: operationKey(op), hash: contentHash(op), owner: randomUUID() };
  const claimed = await claimOperation(
    ctx.store,
    op,
    claim,
    ctx.config.chunkSize,
    ctx.deadline + LEASE_MARGIN_MS,
    ctx.now(),
    ttlMs,
  );
  // The split the first delivery chose stays, even if CHUNK_SIZE changed since: chunk n must mean the same recipients.
  const size = claimed.chunkSize;
  const chunks: Record<number, ChunkRecord> = { ...claimed.chunks };
  if (claimed.kind === 'completed') {
    log.info('replayed a completed operation', { idempotencyKey: claim.key });
    return outcomeOf(op, recipientResults(op, size, chunks), true);
  }

  const count = chunkCount(op, size);
  let storeFailure: string | undefined;
  const put = async (n: number, record: ChunkRecord): Promise<boolean> => {
    try {
      if (await ctx.store.putChunk(claim.key, claim.owner, n, record)) return true;
      storeFailure = 'the lease on this operation was lost';
    } catch (err) {
      storeFailure = err instanceof StoreError ? err.message : String(err);
    }
    return false;
  };

  for (const [n, record] of Object.entries(chunks)) {
    if (record.state !== 'SENDING') continue;
    const unknown: ChunkRecord = {
      ...record,
      state: 'UNKNOWN',
      code: 'InterruptedDelivery',
      message: `a delivery stopped while upstream RequestId ${record.upstreamRequestId} was being sent; check with GetCouponPage`,
      at: ctx.now(),
    };
    log.error('chunk interrupted by an earlier delivery: outcome unknown, not re-sent', {
      chunk: Number(n),
      upstreamRequestId: record.upstreamRequestId,
      SellerId: op.sellerId.digits,
      TemplateId: op.templateId.digits,
    });
    chunks[Number(n)] = unknown;
    await put(Number(n), unknown);
  }
  if (storeFailure !== undefined) {
    await release(ctx, claim, false, ttlMs, log);
    throw storeUnavailable(storeFailure);
  }

  const owed = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !isTerminal(chunks[n]));
  let sentThisDelivery = 0;
  await runPool(owed, ctx.config.chunkConcurrency, async (n) => {
    if (storeFailure !== undefined) return;
    const recipients = chunkRecipients(op, size, n);
    const upstreamRequestId = chunkRequestId(op.requestId, n, count);
    const fields = {
      chunk: n,
      chunks: count,
      recipients: recipients.length,
      upstreamRequestId,
      SellerId: op.sellerId.digits,
      TemplateId: op.templateId.digits,
    };
    const slot = await reserveSlot(ctx);
    if (slot === undefined) {
      chunks[n] = chunkRecordFor(deadlineOutcome(0), recipients, upstreamRequestId, ctx.now());
      log.warn('chunk not attempted: not enough time left before the function timeout', fields);
      return;
    }
    const journal: ChunkJournal = {
      sending: () => put(n, { state: 'SENDING', upstreamRequestId, at: ctx.now() }),
      pending: async (refusal) => {
        await put(n, chunkRecordFor(refusal, recipients, upstreamRequestId, ctx.now()));
      },
    };
    const sent = await sendChunk(
      { ...ctx, logger: log },
      journal,
      buildSendCouponForm(op, recipients, upstreamRequestId),
      slot,
      fields,
    );
    if ('unrecorded' in sent) {
      chunks[n] = chunkRecordFor(deadlineOutcome(0), recipients, upstreamRequestId, ctx.now());
      log.error('chunk not sent: the idempotency store could not record it first', {
        ...fields,
        storeError: storeFailure,
      });
      return;
    }
    if (sent.attempts > 0) sentThisDelivery += 1;
    const { outcome } = sent;
    const record = chunkRecordFor(outcome, recipients, upstreamRequestId, ctx.now());
    chunks[n] = record;
    if (record.state === 'UNKNOWN') {
      log.error('chunk outcome UNKNOWN: never re-sent automatically; check these recipients with GetCouponPage', {
        ...fields,
        Code: record.code,
        Message: record.message,
        uids: recipients.map((r) => maskUid(r.uid.digits)),
        firstRecipientIndex: (n - 1) * size,
      });
    }
    if (!(await put(n, record))) {
      log.error('chunk outcome could not be recorded; the next delivery will report it UNKNOWN and not re-send it', {
        ...fields,
        storeError: storeFailure,
      });
    }
  });

  const completed = Array.from({ length: count }, (_, i) => i + 1).every((n) => isTerminal(chunks[n]));
  await release(ctx, claim, completed, ttlMs, log);
  if (storeFailure !== undefined && sentThisDelivery === 0) throw storeUnavailable(storeFailure);
  const outcome = outcomeOf(op, recipientResults(op, size, chunks), false);
  log.debug('operation result', {
    Code: outcome.summary.code,
    status: outcome.summary.httpStatus,
    completed,
    recipients: op.recipients.length,
    chunks: count,
  });
  return outcome;
}

async function release(
  ctx: ExecuteContext,
  claim: Claim,
  completed: boolean,
  ttlMs: number,
  log: Logger,
): Promise<void> {
  try {
    await ctx.store.finish(claim.key, claim.owner, completed, ttlMs);
  } catch (err) {
    // The lease runs out at the function deadline anyway; progress already recorded stays valid.
    log.error('could not finish the idempotency record', {
      error: err instanceof Error ? err.message : String(err),
      completed,
    });
  }
}
