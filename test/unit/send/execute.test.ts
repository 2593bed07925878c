import { describe, expect, it } from 'vitest';
import { operationKey } from '../../../lib/idempotency/keys.js';
import { createMemoryStore } from '../../../lib/idempotency/memory.js';
import type { IdempotencyStore } from '../../../lib/idempotency/types.js';
import type { UpstreamCall } from '../../../lib/resellertrade/client.js';
import { executeOperation } from '../../../lib/send/execute.js';
import { executorContext, ok, throttled, timedOut } from '../../helpers/executor.js';
import { operation, sent } from '../../fixtures/operations.js';

const op = operation();

const context = (store: IdempotencyStore, answers: UpstreamCall[], onSleep: () => Promise<void> = async () => {}) =>
  executorContext(store, answers, { sleep: onSleep });
const timeout = timedOut;

describe('executeOperation', () => {
  it('sends each chunk once, records it, and replays the completed operation without calling upstream', async () => {
    const store = createMemoryStore();
    const ctx = context(store, [ok('10', '100'), ok('11', '101')]);
    const first = await executeOperation(op, ctx);
    expect(first.results).toEqual([sent('100'), sent('101')]);
    expect(ctx.calls.map((f) => new URLSearchParams(f).get('RequestId'))).toEqual(['unit-op-1', 'unit-op-2']);
    const again = await executeOperation(op, context(store, []));
    expect(again.replayed).toBe(true);
    expect(again.results).toEqual(first.results);
  });

  it('keeps a throttled chunk PENDING (sendable) while it waits to retry, not SENDING', async () => {
    const store = createMemoryStore();
    let seenDuringBackoff: string | undefined;
    const ctx = context(store, [throttled, ok('10', '100'), ok('11', '101')], async () => {
      seenDuringBackoff = (await store.get(operationKey(op)))?.chunks[1]?.state;
    });
    const out = await executeOperation(op, ctx);
    expect(seenDuringBackoff).toBe('PENDING');
    expect(out.verdict.success).toBe(true);
  });

  it('never re-sends an UNKNOWN chunk, and finishes the others on redelivery', async () => {
    const store = createMemoryStore();
    const first = await executeOperation(op, context(store, [timeout, throttled, throttled, throttled]));
    expect(first.results.map((r) => r.status)).toEqual(['UNKNOWN', 'FAILED']);
    expect(first.results[1]).toMatchObject({ retryable: true, code: 'Throttling.User' });
    const ctx = context(store, [ok('11', '101')]);
    const second = await executeOperation(op, ctx);
    expect(ctx.calls).toHaveLength(1);
    expect(new URLSearchParams(ctx.calls[0]).get('UserAmountModelList.1.Uid')).toBe('11');
    expect(second.results.map((r) => r.status)).toEqual(['UNKNOWN', 'SENT']);
    expect(second.verdict.code).toBe('PartialFailure');
  });

  it("keeps the first delivery's chunking when CHUNK_SIZE changes before a redelivery", async () => {
    const store = createMemoryStore();
    await executeOperation(op, context(store, [ok('10', '100'), throttled, throttled, throttled]));
    const ctx = context(store, [ok('11', '101')]);
    ctx.config = { ...ctx.config, chunkSize: 50 };
    const second = await executeOperation(op, ctx);
    expect(ctx.calls).toHaveLength(1);
    const form = new URLSearchParams(ctx.calls[0]);
    expect([
      form.get('RequestId'),
      form.get('UserAmountModelList.1.Uid'),
      form.get('UserAmountModelList.2.Uid'),
    ]).toEqual(['unit-op-2', '11', null]);
    expect(second.verdict.success).toBe(true);
  });

  it('does not send when the store cannot record the chunk first', async () => {
    const memory = createMemoryStore();
    const broken: IdempotencyStore = {
      ...memory,
      putChunk: async () => Promise.reject(new (await import('../../../lib/idempotency/types.js')).StoreError('down')),
    };
    const ctx = context(broken, [ok('10', '100')]);
    await expect(executeOperation(op, ctx)).rejects.toMatchObject({ status: 503, code: 'IdempotencyStoreUnavailable' });
    expect(ctx.calls).toHaveLength(0);
  });
});
