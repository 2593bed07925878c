/**
 * The executor when a store loses a write or its reply, on the memory store and ledger (the same cases run on a
 * real redis-server behind the fault proxy in test/integration/money-faults.test.ts): a failed budget release
 * never replaces a chunk's own outcome, a lost SENDING write is written back as owed, an outcome is written again
 * before the operation completes, and a record that vanished is recreated rather than taken for a lease lost.
 */
import { describe, expect, it } from 'vitest';
import { DailyBudget } from '../../../lib/guardrails/guardrails.js';
import { createMemoryLedger, type BudgetLedger } from '../../../lib/guardrails/ledger.js';
import { operationKey } from '../../../lib/idempotency/keys.js';
import { createMemoryStore } from '../../../lib/idempotency/memory.js';
import { StoreError, type IdempotencyStore } from '../../../lib/idempotency/types.js';
import type { UpstreamCall } from '../../../lib/resellertrade/client.js';
import { executeOperation } from '../../../lib/send/execute.js';
import { executorContext, ok, throttled } from '../../helpers/executor.js';
import { operation, recipient, sent } from '../../fixtures/operations.js';

const refusedByUpstream: UpstreamCall = {
  outcome: {
    kind: 'rejected',
    retry: 'none',
    blame: 'content',
    code: 'COUPON_TEMPLATE_INVALID',
    message: 'The coupon template cannot issue coupons.',
  },
  latencyMs: 1,
};
const budgetOf = (ledger: BudgetLedger) =>
  new DailyBudget(ledger, { dailyBudgetCents: 10_000, budgetTimeZone: 'UTC' }, Date.now);
const lost = () => new StoreError('redis write failed: command timed out after 2000 ms');

describe('a budget release that fails', () => {
  it.each([
    ['its reply is lost (it ran)', true],
    ['it never runs', false],
  ])(
    'when %s: the chunk keeps its upstream Code and stays FAILED; the budget is never given back twice',
    async (_name, ran) => {
      const inner = createMemoryLedger();
      let releases = 0;
      const ledger: BudgetLedger = {
        ...inner,
        release: async (key, ref) => {
          releases += 1;
          if (ran) await inner.release(key, ref);
          throw lost();
        },
      };
      const store = createMemoryStore();
      const op = operation({ requestId: `release-${ran}`, recipients: [recipient('10', 30)] });
      // Another operation's 30 already counted: a double release would free it.
      await inner.reserve(`1:${new Date().toISOString().slice(0, 10)}`, { id: 'other', owner: 'x' }, 3000, 10_000, 1e9);
      const ctx = executorContext(store, [refusedByUpstream], { budget: budgetOf(ledger) });
      const out = await executeOperation(op, ctx);
      expect(out.results).toEqual([
        { status: 'FAILED', code: 'COUPON_TEMPLATE_INVALID', message: 'The coupon template cannot issue coupons.' },
      ]);
      expect((await store.get(operationKey(op)))?.chunks[1]).toMatchObject({
        state: 'FAILED',
        code: 'COUPON_TEMPLATE_INVALID',
      });
      expect(releases).toBe(2);
      expect(await inner.used(`1:${new Date().toISOString().slice(0, 10)}`)).toBe(ran ? 3000 : 6000);
      expect(ctx.logs.some((l) => l.includes('"Code":"BudgetReleaseFailed"'))).toBe(true);
    },
  );

  it('a chunk throttled and left owed gives its reservation back once, whatever the release answers', async () => {
    const inner = createMemoryLedger();
    let releases = 0;
    const ledger: BudgetLedger = {
      ...inner,
      release: async (key, ref) => {
        releases += 1;
        await inner.release(key, ref);
        if (releases === 1) throw lost();
        return false;
      },
    };
    const store = createMemoryStore();
    const op = operation({ requestId: 'owed', recipients: [recipient('10', 30)] });
    const day = `1:${new Date().toISOString().slice(0, 10)}`;
    await inner.reserve(day, { id: 'other', owner: 'x' }, 3000, 10_000, 1e9);
    const ctx = executorContext(store, [throttled], {
      budget: budgetOf(ledger),
      policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const out = await executeOperation(op, ctx);
    expect(out.results[0]).toMatchObject({ status: 'FAILED', code: 'Throttling.User', retryable: true });
    expect(await inner.used(day)).toBe(3000);
  });
});

describe('lost store writes', () => {
  it('a SENDING write whose reply is lost: nothing sent, the chunk written back as owed, a redelivery sends it once', async () => {
    const inner = createMemoryStore();
    let lose = true;
    const store: IdempotencyStore = {
      ...inner,
      putChunk: async (key, owner, chunk, record, renewal) => {
        const written = await inner.putChunk(key, owner, chunk, record, renewal);
        if (record.state === 'SENDING' && lose) throw lost();
        return written;
      },
    };
    const op = operation({ requestId: 'lost-sending', recipients: [recipient('10', 1)] });
    const ctx = executorContext(store, [ok('10', '1')]);
    await expect(executeOperation(op, ctx)).rejects.toMatchObject({ status: 503, code: 'IdempotencyStoreUnavailable' });
    expect(ctx.calls).toHaveLength(0);
    expect((await inner.get(operationKey(op)))?.chunks[1]?.state).toBe('PENDING');
    lose = false;
    const again = executorContext(store, [ok('10', '1')]);
    expect((await executeOperation(op, again)).results).toEqual([sent('1')]);
    expect(again.calls).toHaveLength(1);
  });

  it('a SENT write that never lands is written again before the operation completes', async () => {
    const inner = createMemoryStore();
    let drops = 1;
    const store: IdempotencyStore = {
      ...inner,
      putChunk: async (key, owner, chunk, record, renewal) => {
        if (record.state === 'SENT' && drops-- > 0) throw lost();
        return inner.putChunk(key, owner, chunk, record, renewal);
      },
    };
    const op = operation({ requestId: 'lost-sent', recipients: [recipient('10', 1)] });
    const out = await executeOperation(op, executorContext(store, [ok('10', '1')]));
    expect(out.results).toEqual([sent('1')]);
    expect(await inner.get(operationKey(op))).toMatchObject({ status: 'COMPLETED', chunks: { 1: { state: 'SENT' } } });
  });

  it('an outcome that cannot be written at all: the operation is not completed over a chunk left SENDING', async () => {
    const inner = createMemoryStore();
    const store: IdempotencyStore = {
      ...inner,
      putChunk: async (key, owner, chunk, record, renewal) => {
        if (record.state === 'SENT') throw lost();
        return inner.putChunk(key, owner, chunk, record, renewal);
      },
    };
    const op = operation({ requestId: 'never-written', recipients: [recipient('10', 1)] });
    const out = await executeOperation(op, executorContext(store, [ok('10', '1')]));
    expect(out.results).toEqual([sent('1')]);
    expect((await inner.get(operationKey(op)))?.status).toBe('IN_PROGRESS');
  });

  it('a record that vanished under a running delivery is recreated from what it knows, not taken for a lease lost', async () => {
    let clock = 1_000_000;
    const store = createMemoryStore(() => clock);
    const op = operation({ requestId: 'vanished', recipients: [recipient('10', 1), recipient('11', 2)] });
    // The record expires while chunk 1's call is in flight (as after a FLUSHALL or a failover that lost it).
    const slow = async () => {
      clock += 8 * 86_400_000; // past IDEMPOTENCY_TTL_SECONDS (7 days)
      return ok('10', '1');
    };
    const ctx = executorContext(store, [slow, ok('11', '2')], { now: () => clock, deadline: clock + 1e10 });
    const out = await executeOperation(op, ctx);
    expect(out.results).toEqual([sent('1'), sent('2')]);
    expect(await store.get(operationKey(op))).toMatchObject({
      status: 'COMPLETED',
      chunks: { 1: { state: 'SENT' }, 2: { state: 'SENT' } },
    });
    expect(ctx.logs.some((l) => l.includes('recreated from what this delivery knows'))).toBe(true);
    expect(ctx.logs.some((l) => l.includes('lost to another delivery'))).toBe(false);
    const replay = executorContext(store, [], { now: () => clock });
    expect((await executeOperation(op, replay)).replayed).toBe(true);
    expect(replay.calls).toHaveLength(0);
  });

  it('a recreated record whose reply is lost: the outcome is written again and the operation completes', async () => {
    let clock = 1_000_000;
    const inner = createMemoryStore(() => clock);
    let restores = 0;
    const store: IdempotencyStore = {
      ...inner,
      restore: async (key, record, keepForMs) => {
        restores += 1;
        await inner.restore(key, record, keepForMs);
        throw lost();
      },
    };
    const op = operation({ requestId: 'restore-reply-lost', recipients: [recipient('10', 1)] });
    const slow = async () => {
      clock += 8 * 86_400_000;
      return ok('10', '1');
    };
    const ctx = executorContext(store, [slow], { now: () => clock, deadline: clock + 1e10 });
    const out = await executeOperation(op, ctx);
    expect(out.results).toEqual([sent('1')]);
    expect(restores).toBe(1);
    expect(await inner.get(operationKey(op))).toMatchObject({ status: 'COMPLETED', chunks: { 1: { state: 'SENT' } } });
  });
});
