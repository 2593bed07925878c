import type { Logger } from '../log.js';
import type { Operation } from '../operation.js';
import { IdempotencyError } from './errors.js';
import { contentHash, operationKey } from './keys.js';
import { keepFor, leaseUntil, type LeaseClock } from './lease.js';
import { OperationClaim } from './operation-claim.js';
import { StoreError, type ChunkRecord, type IdempotencyStore, type OperationSummary } from './types.js';

/** The operation as its record keeps it, for `coupon status` and `coupon reconcile`. */
export const summaryOf = (op: Operation): OperationSummary => ({
  sellerId: op.sellerId.digits,
  templateId: op.templateId.digits,
  fromApp: op.fromApp,
  requestId: op.requestId,
  recipients: op.recipients.map((r) => [r.uid.digits, r.amountText]),
});

export interface Completed {
  kind: 'completed';
  key: string;
  chunkSize: number;
  chunks: Record<number, ChunkRecord>;
}

export interface ClaimOptions {
  owner: string;
  chunkSize: number;
  ttlMs: number;
  /** How far the first lease reaches before any chunk is written. */
  idleMs: number;
  clock: LeaseClock;
  /** Where the claim says what it had to repair (a record recreated after it vanished). */
  log?: Logger;
}

/**
 * The idempotency rules, in one place: a completed operation is replayed; a live one is RequestInProgress;
 * the same id with other content is IdempotencyKeyReused; an abandoned one (lease run out) is taken over with
 * its progress; a claim answered with this delivery's own owner token (a reply lost and the claim resent) is
 * an acquisition; and a store that cannot answer stops the send.
 */
export async function claimOperation(
  store: IdempotencyStore,
  op: Operation,
  options: ClaimOptions,
): Promise<OperationClaim | Completed> {
  const key = operationKey(op);
  const hash = contentHash(op);
  const { clock, owner } = options;
  const lease = leaseUntil(clock, options.idleMs);
  let answer;
  try {
    answer = await store.claim(key, {
      hash,
      chunkSize: options.chunkSize,
      op: summaryOf(op),
      owner,
      leaseUntil: lease,
      now: clock.now(),
      keepForMs: keepFor(clock, lease, options.ttlMs),
    });
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    throw new IdempotencyError('IdempotencyStoreUnavailable', err.message, 5, { cause: err });
  }
  const { acquired, record } = answer;
  if (record.hash !== hash) {
    throw new IdempotencyError(
      'IdempotencyKeyReused',
      `RequestId ${op.requestId} was already used for a different request (other template, recipients or amounts); use a new RequestId.`,
    );
  }
  const chunkSize = record.chunkSize > 0 ? record.chunkSize : options.chunkSize;
  const ours = acquired || (record.status === 'IN_PROGRESS' && record.owner === owner);
  if (ours) {
    const identity = { hash, op: summaryOf(op) };
    return new OperationClaim(store, key, owner, chunkSize, record.chunks, clock, options.ttlMs, identity, options.log);
  }
  if (record.status === 'COMPLETED') return { kind: 'completed', key, chunkSize, chunks: record.chunks };
  throw new IdempotencyError(
    'RequestInProgress',
    `RequestId ${op.requestId} is being processed by another delivery; retry later to get its result.`,
    Math.max(1, Math.ceil((record.leaseUntil - clock.now()) / 1000)),
  );
}
