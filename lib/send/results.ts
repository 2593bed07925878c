import type { ChunkRecord } from '../idempotency/types.js';
import type { ConfirmedItem, UpstreamOutcome } from '../resellertrade/mapping.js';
import { canonicalDigits, type Operation, type Recipient, type RecipientResult } from '../operation.js';

export const chunkCount = (op: Operation, size: number): number => Math.ceil(op.recipients.length / size);

export function chunkRecipients(op: Operation, size: number, chunk: number): Recipient[] {
  return op.recipients.slice((chunk - 1) * size, chunk * size);
}

/** Terminal chunks are never sent again; PENDING (or absent) ones are still owed. */
export function isTerminal(record: ChunkRecord | undefined): boolean {
  return record !== undefined && record.state !== 'PENDING';
}

/** The durable record of one chunk's send, from what the upstream proved. */
export function chunkRecordFor(
  outcome: UpstreamOutcome,
  recipients: readonly Recipient[],
  upstreamRequestId: string,
  at: number,
): ChunkRecord {
  if (outcome.kind === 'ok') {
    return { state: 'SENT', upstreamRequestId, youhuiIds: confirmations(outcome.items, recipients), at };
  }
  const base = { upstreamRequestId, code: outcome.code, message: outcome.message, at };
  if (outcome.kind === 'unknown') return { state: 'UNKNOWN', ...base };
  return { state: outcome.terminal === 'business' ? 'FAILED' : 'PENDING', ...base };
}

/**
 * Per recipient: its coupon id, "" when the answer carries no list at all (the call as a whole succeeded), or
 * null when the answer lists recipients but not this one (not confirmed, so reported UNKNOWN, never re-sent).
 */
function confirmations(items: ConfirmedItem[] | undefined, recipients: readonly Recipient[]): Array<string | null> {
  if (items === undefined || items.length === 0) return recipients.map(() => '');
  const byUid = new Map<string, string>();
  for (const item of items) byUid.set(item.uid.replace(/^0+(?=\d)/, ''), item.youhuiId ?? '');
  return recipients.map((r) => byUid.get(canonicalDigits(r.uid)) ?? null);
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
        return {
          status: 'UNKNOWN',
          code: 'InterruptedDelivery',
          message: `a delivery stopped while upstream RequestId ${record.upstreamRequestId} was being sent; check with GetCouponPage`,
        };
      case 'SENT': {
        const id = record.youhuiIds?.[i - (chunk - 1) * size];
        if (id === null) {
          return {
            status: 'UNKNOWN',
            code: 'NotConfirmed',
            message: `the answer to upstream RequestId ${record.upstreamRequestId} did not list this uid`,
          };
        }
        return id ? { status: 'SENT', youhuiId: { digits: id, kind: 'number' } } : { status: 'SENT' };
      }
    }
  });
}
