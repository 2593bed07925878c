import {
  centsOf,
  isRefusal,
  operationRefusal,
  type DailyBudget,
  type GuardrailRefusal,
  type Reservation,
} from '../guardrails/guardrails.js';
import { fromCents } from '../guardrails/cents.js';
import type { OperationClaim } from '../idempotency/operation-claim.js';
import { StoreError, type ChunkRecord } from '../idempotency/types.js';
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

const owedBy = (refusal: { code: string; message: string }, upstreamRequestId: string, at: number): ChunkRecord => ({
  state: 'PENDING',
  upstreamRequestId,
  code: refusal.code,
  message: refusal.message,
  at,
});

const STOPPED = {
  code: 'Stopped',
  message: 'not sent: the campaign was paused or cancelled before this chunk; it stays owed',
};

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
    const fields = {
      chunk: n,
      chunks: count,
      recipients: recipients.length,
      amountCents: centsOf(recipients),
      upstreamRequestId,
    };
    let announced = false;
    let reservation: Reservation | undefined;
    // Taken before the release is tried: whatever its reply, a reservation is given back at most once.
    const giveBack = async () => {
      const held = reservation;
      reservation = undefined;
      if (held && (await releaseReservation(ctx.budget, held, log, fields))) ctx.meter?.budgetReleased(held.cents);
    };
    try {
      if (refused) {
        known[n] = chunks[n] = owedBy(refused, upstreamRequestId, ctx.now());
        return;
      }
      if (ctx.shouldStop && (await ctx.shouldStop())) {
        known[n] = chunks[n] = owedBy(STOPPED, upstreamRequestId, ctx.now());
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
      const planned = ctx.budget.plan(op.sellerId.digits, centsOf(recipients), {
        id: `${claim.key}:${n}`,
        owner: claim.owner,
      });
      // Held before the reply comes: if it is lost, what may have been reserved is given back (a no-op if not).
      reservation = planned;
      const reserved = await ctx.budget.reserve(planned);
      if (reserved.usedCents !== undefined) ctx.meter?.budgetReported(reserved.usedCents);
      if (isRefusal(reserved)) {
        reservation = undefined;
        refused = reserved;
        known[n] = chunks[n] = owedBy(reserved, upstreamRequestId, ctx.now());
        log.warn('chunk not sent: the daily budget is spent; this and later chunks stay owed', {
          ...fields,
          Message: reserved.message,
        });
        return;
      }
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
        const owedAgain: ChunkRecord = {
          ...chunkRecordFor(deadlineOutcome(0), recipients, upstreamRequestId, ctx.now()),
          message:
            'the idempotency store could not record this chunk before sending it, so it was not sent; it is sent when the same operation is delivered again',
        };
        chunks[n] = owedAgain;
        // The SENDING write may have landed with its reply lost: the store must not keep calling it in flight.
        const reverted = await claim.revertSending(n, owedAgain);
        if (reverted) known[n] = owedAgain;
        log.error('chunk not sent: the idempotency store could not record it first', {
          ...fields,
          storeError: claim.failure,
          writtenBackAsOwed: reverted,
        });
        return;
      }
      if (sent.attempts > 0) sentAny = true;
      const record = chunkRecordFor(sent.outcome, recipients, upstreamRequestId, ctx.now());
      // Proven not issued (a rejection, or still owed): the reservation goes back. SENT and UNKNOWN stay counted.
      if (record.state === 'FAILED' || record.state === 'PENDING') await giveBack();
      chunks[n] = record;
      known[n] = record;
      ctx.meter?.settled(n);
      if (record.state === 'UNKNOWN') {
        log.error(
          'chunk outcome UNKNOWN: never re-sent automatically; settle these recipients with coupon reconcile --request-id',
          {
            ...fields,
            SellerId: op.sellerId.digits,
            TemplateId: op.templateId.digits,
            Code: record.code,
            Message: record.message,
            uids: recipients.map((r) => maskUid(r.uid.digits)),
            firstRecipientIndex: (n - 1) * size,
          },
        );
      }
      // The only chunk owed (every other one is settled): a terminal record completes the operation at once.
      if (!(await claim.settle(n, record, ctx.timeoutMs, owed.length === 1))) {
        log.error('chunk outcome could not be recorded yet; it is written again before the operation is finished', {
          ...fields,
          storeError: claim.failure,
        });
      }
    } catch (err) {
      // Unexpected: if a request may have left, the chunk is UNKNOWN (never re-sent); otherwise it stays owed.
      const detail = err instanceof Error ? err.message : String(err);
      // Only a store (the budget's) can fail before a chunk is announced: nothing went out, and a redelivery helps.
      const storeDown = !announced && err instanceof StoreError;
      const base = { upstreamRequestId, code: storeDown ? 'NotAttempted' : 'InternalError', at: ctx.now() };
      const record: ChunkRecord = announced
        ? {
            ...base,
            state: 'UNKNOWN',
            message:
              'an internal error occurred while this chunk was being sent; settle it with coupon reconcile --request-id <this RequestId>',
          }
        : {
            ...base,
            state: 'PENDING',
            message: storeDown
              ? 'the daily budget could not be reserved (its store failed), so this chunk was not sent; it is sent when the same operation is delivered again'
              : 'an internal error stopped this chunk before it was sent; it is sent when the same operation is delivered again',
          };
      chunks[n] = record;
      known[n] = record;
      if (announced) {
        sentAny = true;
        ctx.meter?.settled(n);
      } else await giveBack();
      log.error('chunk failed unexpectedly', { ...fields, state: record.state, error: detail });
      await claim.settle(n, record, ctx.timeoutMs);
    }
  });
  const settled = Array.from({ length: count }, (_, i) => i + 1).every((n) => isTerminal(chunks[n]));
  return { known, settled, sentAny };
}

/**
 * Gives a reservation back, once more if the store fails (a release is safe to repeat: it acts at most once).
 * Never throws: a release that fails leaves the budget over-counted until the day ends, never overspent, and
 * the chunk keeps its own outcome; the failure is logged on a line of its own. True when this call gave it back.
 */
async function releaseReservation(
  budget: DailyBudget,
  held: Reservation,
  log: Logger,
  fields: Record<string, unknown>,
): Promise<boolean> {
  let error = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      return await budget.release(held);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
  }
  log.error('daily budget reservation could not be given back: it stays counted until the day ends', {
    ...fields,
    Code: 'BudgetReleaseFailed',
    amount: fromCents(held.cents),
    budgetDay: held.day,
    error,
  });
  return false;
}
