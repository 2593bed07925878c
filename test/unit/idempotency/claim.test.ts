import { describe, expect, it } from 'vitest';
import { claimOperation } from '../../../lib/idempotency/claim.js';
import { contentHash, operationKey } from '../../../lib/idempotency/keys.js';
import { keepFor, LEASE_MARGIN_MS, leaseUntil } from '../../../lib/idempotency/lease.js';
import { createMemoryStore } from '../../../lib/idempotency/memory.js';
import { OperationClaim } from '../../../lib/idempotency/operation-claim.js';
import { createLogger } from '../../../lib/log.js';
import { operation, recipient } from '../../fixtures/operations.js';

const clock = (t: number, deadline = t + 600_000) => ({ now: () => t, deadline });
const options = (owner: string, t = 1_000) => ({
  owner,
  chunkSize: 50,
  ttlMs: 604_800_000,
  idleMs: 10_000,
  clock: clock(t),
});

describe('keys', () => {
  it('names an operation by seller, fromApp and RequestId, whatever the JSON type of the seller id', () => {
    const a = operation({ sellerId: { digits: '1', kind: 'number' } });
    const b = operation({ sellerId: { digits: '1', kind: 'string' }, recipients: [recipient('99', 5)] });
    expect(operationKey(a)).toBe(operationKey(b));
    expect(operationKey(a)).not.toBe(operationKey(operation({ fromApp: 'other' })));
  });

  it('sees the same amount written differently as the same content, and any other change as other content', () => {
    const base = operation({ recipients: [recipient('10', 100)] });
    expect(contentHash(base)).toBe(contentHash(operation({ recipients: [{ ...recipient('10', 100), amount: 1e2 }] })));
    expect(contentHash(base)).not.toBe(contentHash(operation({ recipients: [recipient('10', 100.01)] })));
    expect(contentHash(base)).not.toBe(contentHash(operation({ recipients: [recipient('11', 100)] })));
  });
});

describe('lease', () => {
  it.each([
    ['ahead of now', 1_000, 600_000, 10_000, 11_000 + LEASE_MARGIN_MS],
    ['never past the deadline', 1_000, 5_000, 10_000, 5_000 + LEASE_MARGIN_MS],
  ])('reaches %s, plus the margin', (_name, now, deadline, ahead, expected) => {
    expect(leaseUntil(clock(now, deadline), ahead)).toBe(expected);
  });

  it('keeps a record at least until its lease ends plus the margin, whatever the TTL', () => {
    expect(keepFor(clock(0), 60_000, 1_000)).toBe(60_000 + LEASE_MARGIN_MS);
    expect(keepFor(clock(0), 60_000, 604_800_000)).toBe(604_800_000);
  });
});

describe('claim rules', () => {
  it('acquires a new operation, answers 409 with the lease left while it runs, and replays it once completed', async () => {
    const store = createMemoryStore();
    const op = operation();
    const first = await claimOperation(store, op, options('a'));
    expect(first).toBeInstanceOf(OperationClaim);
    await expect(claimOperation(store, op, options('b', 2_000))).rejects.toMatchObject({
      code: 'RequestInProgress',
      retryAfterSeconds: 14,
    });
    await (first as OperationClaim).finish(
      true,
      createLogger('error', {}, () => undefined),
    );
    expect(await claimOperation(store, op, options('c', 3_000))).toMatchObject({ kind: 'completed' });
  });

  it('refuses the same RequestId with other content', async () => {
    const store = createMemoryStore();
    await claimOperation(store, operation(), options('a'));
    await expect(
      claimOperation(store, operation({ recipients: [recipient('77', 1)] }), options('b')),
    ).rejects.toMatchObject({
      code: 'IdempotencyKeyReused',
    });
  });
});
