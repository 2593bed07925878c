import {
  centsOf,
  isRefusal,
  operationRefusal,
  type GuardrailRefusal,
  type Reservation,
} from '../guardrails/guardrails.js';
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
  /**
   * What this delivery knows of the chunks it handled: what its calls proved (SENT, FAILED, UNKNOWN), and why the
   * others stay owed (PENDING: a guardrail, the deadline).
   */
  known: Record<number, ChunkRecord>;
  /** Every chunk of the operation is terminal: the record can be completed. */
  settled: boolean;
  sentAny: boolean;
}

/** Without DAILY_BUDGET nothing is reserved, and nothing is given back. */
const UNCOUNTED: Reservation = { key: '', cents: 0 };

const owedBy = (refusal: GuardrailRefusal, upstreamRequestId: string, at: number): ChunkRecord => ({
  state: 'PENDING',
  upstreamRequestId,
  code: refusal.code,
  message: refusal.message,
  at,
});

/**
 * Sends every chunk still owed, a few at a time, through the claim's write protocol. The operation's guardrails
 * hold before anything goes out, and each chunk reserves its amount of the daily budget first: a refusal leaves
 * it and every chunk after it owed. Never throws: a chunk that fails unexpectedly is recorded UNKNOWN when its
 * request may have left, and left owed otherwise; what a chunk proves was not issued goes back to the budget.
 */
export async function sendOwedChunks(
  op: Operation,
  claim: OperationClaim,
  ctx: ExecuteContext,
  log: Logger,
): Promise<ChunksOutcome> {
  const size = claim.chunkSize;
  const count = chunkCount(op, size);
  // Chunks an earlier delivery left SENDING are UNKNOWN by now (interruptStale wrote them so).
  const chunks = claim.chunks;
  const known: Record<number, ChunkRecord> = {};
  const owed = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !isTerminal(chunks[n]));
  let sentAny = false;
  let refused = operationRefusal(op, ctx.config.guardrails);
  if (refused)
    log.warn('operation refused by a guardrail: nothing sent', { Code: refused.code, Message: refused.message });

  await runPool(owed, ctx.config.chunkConcurrency, async (n) => {
    if (claim.failure !== undefined) return;
    const recipients = chunkRecipients(op, size, n);
    const upstreamRequestId = chunkRequestId(op.requestId, n, count);
    const fields = { chunk: n, chunks: count, recipients: recipients.length, upstreamRequestId };
    let announced = false;
    let reservation: Reservation | undefined;
    const giveBack = async () => {
      if (reservation) await ctx.budget.release(reservation);
      reservation = undefined;
    };
    try {
      if (refused) {
        known[n] = chunks[n] = owedBy(refused, upstreamRequestId, ctx.now());
        return;
      }
      const form = buildSendCouponForm(op, recipients, upstreamRequestId);
      const slot = await reserveSlot(ctx);
      if ('kind' in slot) {
        // Known, so that the answer says when a retry fits (the store has nothing newer to say of it).
        known[n] = chunks[n] = chunkRecordFor(slot, recipients, upstreamRequestId, ctx.now());
        log.warn('chunk not attempted: no upstream quota free before the function timeout', {
          ...fields,
          retryAfterMs: slot.retryAfterMs,
        });
        return;
      }
      const reserved = ctx.budget.enabled
        ? await ctx.budget.reserve(op.sellerId.digits, centsOf(recipients))
        : UNCOUNTED;
      if (isRefusal(reserved)) {
        refused = reserved;
        known[n] = chunks[n] = owedBy(reserved, upstreamRequestId, ctx.now());
        log.warn('chunk not sent: the daily budget is spent; this and later chunks stay owed', {
          ...fields,
          Message: reserved.message,
        });
        return;
      }
      reservation = reserved;
      const journal = {
        sending: async (callMs: number) => (announced = await claim.sending(n, upstreamRequestId, callMs)),
        pending: async (refusal: Parameters<typeof chunkRecordFor>[0], waitMs: number) => {
          announced = false;
          await claim.owe(n, chunkRecordFor(refusal, recipients, upstreamRequestId, ctx.now()), waitMs);
        },
      };
      const sent = await sendChunk({ ...ctx, logger: log }, journal, form, slot, fields);
      if ('unrecorded' in sent) {
        await giveBack();
        chunks[n] = chunkRecordFor(deadlineOutcome(0), recipients, upstreamRequestId, ctx.now());
        log.error('chunk not sent: the idempotency store could not record it first', {
          ...fields,
          storeError: claim.failure,
        });
        return;
      }
      if (sent.attempts > 0) sentAny = true;
      const record = chunkRecordFor(sent.outcome, recipients, upstreamRequestId, ctx.now());
      // Proven not issued (a rejection, or still owed): the reservation goes back. SENT and UNKNOWN stay counted.
      if (record.state === 'FAILED' || record.state === 'PENDING') await giveBack();
      chunks[n] = record;
      known[n] = record;
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
      // The only chunk owed (every other one is settled): a terminal record completes the operation at once.
      if (!(await claim.settle(n, record, ctx.timeoutMs, owed.length === 1))) {
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
      known[n] = record;
      if (announced) sentAny = true;
      else await giveBack().catch(() => undefined);
      log.error('chunk failed unexpectedly', { ...fields, state: record.state, error: detail });
      await claim.settle(n, record, ctx.timeoutMs);
    }
  });
  const settled = Array.from({ length: count }, (_, i) => i + 1).every((n) => isTerminal(chunks[n]));
  return { known, settled, sentAny };
}
