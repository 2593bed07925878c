import { createHash } from 'node:crypto';
import { AppError, storeUnavailable } from '../errors.js';
import { canonicalDigits, type Operation } from '../operation.js';
import { StoreError, type ChunkRecord, type IdempotencyStore } from './types.js';

/** (SellerId, FromApp, RequestId) identifies an operation, whatever trigger delivers it. */
export function operationKey(op: Operation): string {
  return createHash('sha256')
    .update(JSON.stringify([canonicalDigits(op.sellerId), op.fromApp, op.requestId]))
    .digest('hex');
}

/** What must match for a redelivery to be the same operation: template, bid, operator and the ordered recipients. */
export function contentHash(op: Operation): string {
  const canonical = [
    canonicalDigits(op.templateId),
    op.bid ? canonicalDigits(op.bid) : null,
    op.operator ?? null,
    op.recipients.map((r) => [canonicalDigits(r.uid), r.amount]),
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export interface ClaimResult {
  kind: 'acquired' | 'completed';
  chunkSize: number;
  chunks: Record<number, ChunkRecord>;
}

export interface Claim {
  key: string;
  hash: string;
  owner: string;
}

/**
 * The idempotency rules, in one place: a completed operation is replayed, a live one is 409, the same id with
 * other content is 422, an abandoned one (lease run out) is taken over with its progress, and a store that
 * cannot answer stops the send (503).
 */
export async function claimOperation(
  store: IdempotencyStore,
  op: Operation,
  claim: Claim,
  chunkSize: number,
  leaseUntil: number,
  now: number,
  ttlMs: number,
): Promise<ClaimResult> {
  let answer;
  try {
    answer = await store.claim(claim.key, { hash: claim.hash, chunkSize, owner: claim.owner, leaseUntil, now, ttlMs });
  } catch (err) {
    if (err instanceof StoreError) throw storeUnavailable(err.message);
    throw err;
  }
  const { acquired, record } = answer;
  if (record.hash !== claim.hash) {
    throw new AppError(
      422,
      'IdempotencyKeyReused',
      `RequestId ${op.requestId} was already used for a different request (other template, recipients or amounts); use a new RequestId.`,
      {
        requestId: op.requestId,
      },
    );
  }
  const progress = { chunkSize: record.chunkSize > 0 ? record.chunkSize : chunkSize, chunks: record.chunks };
  if (acquired) return { kind: 'acquired', ...progress };
  if (record.status === 'COMPLETED') return { kind: 'completed', ...progress };
  throw new AppError(
    409,
    'RequestInProgress',
    `RequestId ${op.requestId} is being processed by another delivery; retry later to get its result.`,
    {
      requestId: op.requestId,
      retryable: true,
      retryAfterSeconds: Math.max(1, Math.ceil((record.leaseUntil - now) / 1000)),
    },
  );
}
