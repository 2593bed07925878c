import type { IdempotencyRecord, OperationSummary } from '../idempotency/types.js';
import type { Operation, RecipientResult } from '../operation.js';
import { chunkRequestId } from '../resellertrade/form.js';
import { chunkCount, recipientResults } from '../send/results.js';

/** The operation a record keeps, in the one domain type, so the executor's own result rules read it. */
export function operationOf(summary: OperationSummary): Operation {
  return {
    sellerId: { digits: summary.sellerId, kind: 'string' },
    templateId: { digits: summary.templateId, kind: 'string' },
    requestId: summary.requestId,
    fromApp: summary.fromApp,
    form: 'flat',
    recipients: summary.recipients.map(([uid, amount]) => ({
      uid: { digits: uid, kind: 'string' },
      amount: Number(amount),
      amountText: amount,
    })),
  };
}

export type OperationState = 'COMPLETED' | 'RUNNING' | 'WAITING';

export interface OperationView {
  op: Operation;
  state: OperationState;
  leaseUntil?: string;
  chunks: Array<{ chunk: number; upstreamRequestId: string; state: string; code?: string }>;
  results: RecipientResult[];
}

/** What a record says: the operation's state, each chunk's upstream RequestId, each recipient's result. */
export function viewOf(record: IdempotencyRecord, now: number): OperationView {
  if (!record.op) throw new Error('this record was written before operations were kept with their records');
  const op = operationOf(record.op);
  const count = chunkCount(op, record.chunkSize);
  const state: OperationState =
    record.status === 'COMPLETED' ? 'COMPLETED' : record.leaseUntil > now ? 'RUNNING' : 'WAITING';
  const chunks = Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const c = record.chunks[n];
    return {
      chunk: n,
      upstreamRequestId: c?.upstreamRequestId ?? chunkRequestId(op.requestId, n, count),
      state: c?.state ?? 'NOT SENT',
      ...(c?.code === undefined ? {} : { code: c.code }),
    };
  });
  return {
    op,
    state,
    ...(state === 'RUNNING' ? { leaseUntil: new Date(record.leaseUntil).toISOString() } : {}),
    chunks,
    results: recipientResults(op, record.chunkSize, record.chunks),
  };
}

/** Where recipient `index` sits: its chunk number and place in it, the chunk's record, what reconcile found. */
export function placeOf(record: IdempotencyRecord, index: number) {
  const n = Math.floor(index / record.chunkSize) + 1;
  const slot = index - (n - 1) * record.chunkSize;
  const chunk = record.chunks[n];
  return { n, slot, chunk, settled: chunk?.reconciled?.[slot] ?? undefined };
}
