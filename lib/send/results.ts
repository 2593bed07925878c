import type { ChunkRecord, Confirmation, Reconciled } from '../idempotency/types.js';
import type { Operation, Recipient, RecipientResult } from '../operation.js';
import type { ConfirmedItem, UpstreamOutcome } from '../resellertrade/mapping.js';

export const chunkCount = (op: Operation, size: number): number => Math.ceil(op.recipients.length / size);

export function chunkRecipients(op: Operation, size: number, chunk: number): Recipient[] {
  return op.recipients.slice((chunk - 1) * size, chunk * size);
}

/** Terminal chunks are never sent again; PENDING (or absent) ones are still owed. */
export function isTerminal(record: ChunkRecord | undefined): boolean {
  return record !== undefined && record.state !== 'PENDING';
}

/**
 * Per recipient of the chunk: its confirmation, or null when the answer does not name it. An answer that names
 * nobody (no list, an empty one) confirms nobody: those recipients are UNKNOWN, never reported SENT on faith.
 */
function confirmations(
  items: readonly ConfirmedItem[] | undefined,
  recipients: readonly Recipient[],
): Array<Confirmation | null> {
  const byUid = new Map<string, Confirmation>();
  for (const item of items ?? []) {
    byUid.set(item.uid.replace(/^0+(?=\d)/, ''), item.youhuiId === undefined ? {} : { youhuiId: item.youhuiId });
  }
  return recipients.map((r) => byUid.get(r.uid.digits) ?? null);
}

/** The durable record of one chunk's send, from what the upstream proved. */
export function chunkRecordFor(
  outcome: UpstreamOutcome,
  recipients: readonly Recipient[],
  upstreamRequestId: string,
  at: number,
): ChunkRecord {
  if (outcome.kind === 'ok') {
    const confirmed = confirmations(outcome.items, recipients);
    return { state: 'SENT', upstreamRequestId, confirmed, ...(outcome.partial ?? {}), at };
  }
  const base = { upstreamRequestId, code: outcome.code, message: outcome.message, at };
  if (outcome.kind === 'unknown') return { state: 'UNKNOWN', ...base };
  return { state: outcome.blame === 'content' ? 'FAILED' : 'PENDING', ...base };
}

const interrupted = (record: ChunkRecord): RecipientResult => ({
  status: 'UNKNOWN',
  code: 'InterruptedDelivery',
  message: `a delivery stopped while upstream RequestId ${record.upstreamRequestId} was being sent; settle it with coupon reconcile --request-id <this RequestId>`,
});

/** What `coupon reconcile` established for a recipient whose outcome was UNKNOWN. */
function reconciledResult(settled: Reconciled): RecipientResult {
  if (settled.issued) return { status: 'SENT', youhuiId: settled.youhuiId };
  const message = settled.resentAs
    ? `GetCouponPage showed no coupon for this uid from this operation; it was sent again as RequestId ${settled.resentAs}`
    : 'GetCouponPage shows no coupon for this uid from this operation; coupon reconcile --resend sends it';
  return { status: 'FAILED', code: 'NeverIssued', message, retryable: true };
}

/** Every recipient's result, derived from the chunk records (the same function serves a first answer and a replay). */
export function recipientResults(
  op: Operation,
  size: number,
  chunks: Readonly<Record<number, ChunkRecord>>,
): RecipientResult[] {
  return op.recipients.map((_, i): RecipientResult => {
    const chunk = Math.floor(i / size) + 1;
    const record = chunks[chunk];
    const settled = record?.reconciled?.[i - (chunk - 1) * size];
    if (settled) return reconciledResult(settled);
    const detail = record?.code === undefined ? {} : { code: record.code, message: record.message ?? '' };
    switch (record?.state) {
      case undefined:
        return {
          status: 'FAILED',
          code: 'NotAttempted',
          message: 'not sent yet; it is sent when the same operation is delivered again',
          retryable: true,
        };
      case 'PENDING':
        return { status: 'FAILED', ...detail, retryable: true };
      case 'FAILED':
        return { status: 'FAILED', ...detail };
      case 'UNKNOWN':
        return { status: 'UNKNOWN', ...detail };
      case 'SENDING':
        return interrupted(record);
      case 'SENT': {
        const confirmation = record.confirmed?.[i - (chunk - 1) * size];
        if (!confirmation) {
          const why = record.code === undefined ? '' : ` (it answered ${record.code}: ${record.message ?? ''})`;
          return {
            status: 'UNKNOWN',
            code: 'NotConfirmed',
            message: `the answer to upstream RequestId ${record.upstreamRequestId} did not name this uid${why}; settle it with coupon reconcile --request-id <this RequestId>`,
          };
        }
        return confirmation.youhuiId ? { status: 'SENT', youhuiId: confirmation.youhuiId } : { status: 'SENT' };
      }
    }
  });
}
