import type { OperationClaim } from '../idempotency/operation-claim.js';
import type { ChunkRecord } from '../idempotency/types.js';
import type { Logger } from '../log.js';
import type { Operation } from '../operation.js';
import { runPool } from '../pool.js';
import { maskUid } from '../redact.js';
import { buildSendCouponForm, chunkRequestId } from '../resellertrade/form.js';
import { deadlineOutcome, reserveSlot, sendChunk } from './chunk.js';
import type { ExecuteContext } from './execute.js';
import { chunkCount, chunkRecipients, chunkRecordFor, isTerminal } from './results.js';

export interface ChunksOutcome {
  /** What this delivery's own calls proved, chunk by chunk (SENT, FAILED, UNKNOWN). */
  proven: Record<number, ChunkRecord>;
  /** Every chunk of the operation is terminal: the record can be completed. */
  settled: boolean;
  sentAny: boolean;
}

/**
 * Sends every chunk still owed, a few at a time, through the claim's write protocol. Never throws: a chunk that
 * fails unexpectedly is recorded UNKNOWN when its request may have left, and left owed otherwise.
 */
export async function sendOwedChunks(
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
