import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../../lib/idempotency/memory.js';
import type { Operation } from '../../../lib/operation.js';
import { executeOperation } from '../../../lib/send/execute.js';
import { executorContext, ok, uidOf } from '../../helpers/executor.js';

const recipient = (uid: string) => ({ uid: { digits: uid, kind: 'number' as const }, amount: 1, amountText: '1' });
const op = (uids: string[]): Operation => ({
  sellerId: { digits: '3944837183', kind: 'number' },
  templateId: { digits: '295873', kind: 'number' },
  requestId: 'spring:1',
  fromApp: 'campaigns',
  recipients: uids.map(recipient),
  form: 'flat',
});

const owed = expect.objectContaining({ status: 'FAILED', code: 'Stopped', retryable: true });

describe('the optional stop check of a send', () => {
  it('starts no call once it says stop: the rest stays owed (PENDING, never UNKNOWN) and a redelivery sends it once', async () => {
    const store = createMemoryStore();
    const uids = ['1918000000001', '1918000000002', '1918000000003', '1918000000004'];
    let asked = 0;
    const first = executorContext(store, [ok(uids[0] ?? '', '1'), ok(uids[1] ?? '', '2')], {
      shouldStop: async () => ++asked > 2,
    });
    const stopped = await executeOperation(op(uids), first);
    expect(stopped.results.map((r) => r.status)).toEqual(['SENT', 'SENT', 'FAILED', 'FAILED']);
    // Owed, not failed: the store keeps them PENDING, and the answer marks them retryable with the reason.
    expect(stopped.results.slice(2)).toEqual([owed, owed]);
    expect(first.calls.map(uidOf)).toEqual(uids.slice(0, 2));

    const again = executorContext(store, [ok(uids[2] ?? '', '3'), ok(uids[3] ?? '', '4')]);
    const resumed = await executeOperation(op(uids), again);
    expect(resumed.results.map((r) => r.status)).toEqual(['SENT', 'SENT', 'SENT', 'SENT']);
    expect(again.calls.map(uidOf)).toEqual(uids.slice(2));
  });

  it('sends nothing when it says stop from the start, and leaves the operation free for a later delivery', async () => {
    const store = createMemoryStore();
    const ctx = executorContext(store, [], { shouldStop: async () => true });
    const run = await executeOperation(op(['1918000000009']), ctx);
    expect(run.results).toEqual([owed]);
    expect(ctx.calls).toHaveLength(0);
    const later = executorContext(store, [ok('1918000000009', '9')]);
    expect((await executeOperation(op(['1918000000009']), later)).results[0]?.status).toBe('SENT');
  });
});
