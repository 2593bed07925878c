import type { AppError } from '../errors.js';
import { fromCents, toCents } from '../guardrails/cents.js';
import type { Operation, OperationRef, RecipientResult } from '../operation.js';
import type { ExecutedOperation } from '../send/execute.js';
import { defined, type MetricLine } from './line.js';
import type { OperationMeter } from './meter.js';

/** What the operation line's `outcome` says, from the recipients' statuses (docs/metrics.md). */
export type OperationOutcome = 'sent' | 'partial' | 'unknown' | 'failed' | 'refused' | 'dryRun';

export interface OperationLineInput {
  ref: Pick<OperationRef, 'requestId' | 'fromApp'>;
  /** Absent when the request was refused before it became an operation (invalid input). */
  operation?: Operation;
  answer: { executed: ExecutedOperation } | { error: AppError };
  chunkSize: number;
  durationMs: number;
  meter?: OperationMeter;
  /** DAILY_BUDGET in cents, when it is set. */
  budgetLimitCents?: number;
}

const isGuardrail = (code: string | undefined): code is string => code?.startsWith('Guardrail.') ?? false;

function outcomeOf(executed: ExecutedOperation, sent: number, unknown: number): OperationOutcome {
  const total = executed.results.length;
  if (executed.dryRun) return 'dryRun';
  if (sent === total) return 'sent';
  if (unknown === total) return 'unknown';
  return sent + unknown > 0 ? 'partial' : 'failed';
}

interface Tally {
  sent: number;
  failed: number;
  unknown: number;
  owed: number;
  dryRun: number;
  issuedCoupons: number;
  issuedCents: number;
  unknownCoupons: number;
  unknownCents: number;
}

/**
 * Statuses as answered (a replay answers them again), and what this delivery's own calls settled: only those
 * count as issued or unknown now, so summing them over every line counts each coupon once however often the
 * operation is delivered.
 */
function tally(op: Operation, results: readonly RecipientResult[], size: number, meter?: OperationMeter): Tally {
  const t: Tally = {
    sent: 0,
    failed: 0,
    unknown: 0,
    owed: 0,
    dryRun: 0,
    issuedCoupons: 0,
    issuedCents: 0,
    unknownCoupons: 0,
    unknownCents: 0,
  };
  results.forEach((r, i) => {
    const byThisDelivery = meter?.settledChunks.has(Math.floor(i / size) + 1) ?? false;
    const cents = toCents(op.recipients[i]?.amount ?? 0);
    switch (r.status) {
      case 'SENT':
        t.sent += 1;
        if (byThisDelivery) {
          t.issuedCoupons += 1;
          t.issuedCents += cents;
        }
        break;
      case 'UNKNOWN':
        t.unknown += 1;
        if (byThisDelivery) {
          t.unknownCoupons += 1;
          t.unknownCents += cents;
        }
        break;
      case 'FAILED':
        t.failed += 1;
        if (r.retryable) t.owed += 1;
        break;
      case 'DRY_RUN':
        t.dryRun += 1;
    }
  });
  return t;
}

function budgetFields(input: OperationLineInput) {
  const limit = input.budgetLimitCents;
  const used = input.meter?.budgetUsedCents;
  if (limit === undefined) return {};
  return {
    budgetLimitCents: limit,
    budgetUsedCents: used,
    budgetLeftCents: used === undefined ? undefined : Math.max(0, limit - used),
  };
}

/**
 * The one metric line of an operation, written where its answer is made (lib/deliver.ts): executed (sent,
 * partly, unknown, refused by a guardrail, a dry run, a replay) or refused before anything was sent. Ids stay out
 * of it except RequestId, to find the operation's other lines; no uid, masked or not.
 */
export function operationLine(input: OperationLineInput): MetricLine {
  const { ref, meter } = input;
  const op = 'executed' in input.answer ? input.answer.executed.operation : input.operation;
  const common = {
    metric: 'operation',
    RequestId: ref.requestId,
    fromApp: ref.fromApp,
    durationMs: Math.round(input.durationMs),
    recipients: op?.recipients.length,
    chunks: op === undefined ? undefined : Math.ceil(op.recipients.length / input.chunkSize),
    requestedCents: op === undefined ? undefined : op.recipients.reduce((s, r) => s + toCents(r.amount), 0),
    upstreamCalls: meter?.upstreamCalls ?? 0,
    throttles: meter?.throttles ?? 0,
    lane: meter?.lane,
    campaignId: meter?.campaignId,
    campaignChunk: meter?.campaignChunk,
    ...budgetFields(input),
  };
  if ('error' in input.answer) {
    const { error } = input.answer;
    return {
      msg: 'operation',
      level: error.status >= 500 ? 'error' : 'warn',
      fields: defined({
        ...common,
        outcome: 'refused',
        Code: error.code,
        status: error.status,
        replayed: false,
        dryRun: false,
        guardrailCode: isGuardrail(error.code) ? error.code : undefined,
      }),
    };
  }
  const { executed } = input.answer;
  const t = tally(executed.operation, executed.results, input.chunkSize, meter);
  const outcome = outcomeOf(executed, t.sent, t.unknown);
  const guardrailCode = executed.results.map((r) => r.code).find(isGuardrail);
  return {
    msg: 'operation',
    level: t.unknown > 0 ? 'error' : outcome === 'sent' || outcome === 'dryRun' ? 'info' : 'warn',
    fields: defined({
      ...common,
      outcome,
      Code: executed.verdict.code,
      status: executed.verdict.httpStatus,
      replayed: executed.replayed,
      dryRun: executed.dryRun ?? false,
      recipientsSent: t.sent,
      recipientsFailed: t.failed,
      recipientsUnknown: t.unknown,
      recipientsOwed: t.owed,
      recipientsDryRun: t.dryRun,
      issuedCoupons: t.issuedCoupons,
      issuedCents: t.issuedCents,
      issuedAmount: fromCents(t.issuedCents),
      unknownCoupons: t.unknownCoupons,
      unknownCents: t.unknownCents,
      unknownAmount: fromCents(t.unknownCents),
      guardrailCode,
    }),
  };
}
