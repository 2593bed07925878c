import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../lib/config.js';
import { createMemoryStore } from '../../../lib/idempotency/memory.js';
import { laneOf } from '../../../lib/quota/lane.js';
import { memoryQuota } from '../../../lib/quota/memory.js';
import { createQuota } from '../../../lib/resellertrade/rate-limiter.js';
import { executeOperation } from '../../../lib/send/execute.js';
import { operation, recipient, sent } from '../../fixtures/operations.js';
import { executorContext, ok, throttled } from '../../helpers/executor.js';

describe('lanes', () => {
  it.each([
    ['http', 1, 200, 'interactive'],
    ['http', 200, 200, 'interactive'],
    ['http', 201, 200, 'bulk'],
    ['event', 1, 200, 'interactive'],
    ['event', 5000, 200, 'bulk'],
    ['timer', 1, 200, 'bulk'],
  ] as const)('a %s send of %d recipients (threshold %d) is %s', (trigger, recipients, threshold, lane) => {
    expect(laneOf(trigger, recipients, threshold)).toBe(lane);
  });
});

describe('the quota settings', () => {
  it('defaults to the usual seller quota', () => {
    expect(loadConfig({}).quota).toEqual({ qps: 50, burst: 10, bulkShare: 0.8, bulkThreshold: 200 });
    expect(
      loadConfig({ UPSTREAM_QPS: '12.5', UPSTREAM_BURST: '3', BULK_SHARE: '0.5', BULK_THRESHOLD: '1000' }).quota,
    ).toEqual({ qps: 12.5, burst: 3, bulkShare: 0.5, bulkThreshold: 1000 });
  });

  it.each([
    [
      'UPSTREAM_QPS',
      '0',
      /UPSTREAM_QPS must be the seller's SendCoupon calls per second, a number from 0.1 to 10000 \(got "0"\)/,
    ],
    ['UPSTREAM_QPS', 'fast', /UPSTREAM_QPS must be .* \(got "fast"\)/],
    ['UPSTREAM_QPS', '-5', /UPSTREAM_QPS must be/],
    ['UPSTREAM_BURST', '0', /UPSTREAM_BURST must be a whole number from 1 to 10000 \(got "0"\)/],
    ['UPSTREAM_BURST', '2.5', /UPSTREAM_BURST must be a whole number/],
    [
      'BULK_SHARE',
      '1.5',
      /BULK_SHARE must be the share of UPSTREAM_QPS bulk work may take, a number from 0.05 to 1 \(got "1.5"\)/,
    ],
    ['BULK_SHARE', '80%', /BULK_SHARE must be/],
    ['BULK_THRESHOLD', '0', /BULK_THRESHOLD must be a whole number from 1 to 100000/],
    ['UPSTREAM_INITIAL_QPS', '20', /UPSTREAM_INITIAL_QPS is no longer read: set UPSTREAM_QPS/],
  ])('%s=%s is refused with a message naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});

describe('deadlines aware of the queue', () => {
  it('a chunk with no slot before the deadline is left owed, nothing sent, and says when a retry fits', async () => {
    const store = createMemoryStore();
    const op = operation({ recipients: [recipient('10', 1), recipient('11', 1), recipient('12', 1)] });
    // One call per second, no burst: chunk 1 goes at once, chunk 2 would start a second later.
    const quota = createQuota(memoryQuota({ qps: 1, burst: 1, bulkShare: 0.8 }));
    const ctx = executorContext(store, [ok('10', '100')], {
      limiter: quota.limiter('1', 'interactive'),
      timeoutMs: 1000,
      deadline: Date.now() + 1500,
    });
    const out = await executeOperation(op, ctx);
    expect(ctx.calls).toHaveLength(1);
    expect(out.results[0]).toEqual(sent('100'));
    for (const r of out.results.slice(1)) {
      expect(r).toMatchObject({ status: 'FAILED', code: 'NotAttempted', retryable: true });
      expect(r.message).toMatch(/no slot of the seller's upstream quota was free before the function's deadline/);
      expect(r.message).toMatch(/retryAfter [12] s/);
    }
    // Redelivered once the retry fits: the owed chunks are sent, chunk 1 is not sent again.
    await new Promise((r) => setTimeout(r, 1000));
    const next = executorContext(store, [ok('11', '101'), ok('12', '102')], {
      limiter: createQuota(memoryQuota({ qps: 100, burst: 10, bulkShare: 0.8 })).limiter('1', 'interactive'),
    });
    const done = await executeOperation(op, next);
    expect(next.calls).toHaveLength(2);
    expect(done.results).toEqual([sent('100'), sent('101'), sent('102')]);
  });

  it('a throttled chunk whose retry finds no slot before the deadline stops there, owed, with the retry time', async () => {
    const store = createMemoryStore();
    const op = operation({ recipients: [recipient('10', 1)] });
    const quota = createQuota(memoryQuota({ qps: 1, burst: 1, bulkShare: 0.8 }));
    const ctx = executorContext(store, [throttled], {
      limiter: quota.limiter('1', 'interactive'),
      timeoutMs: 1000,
      deadline: Date.now() + 1800,
    });
    const out = await executeOperation(op, ctx);
    expect(ctx.calls).toHaveLength(1);
    expect(out.results[0]).toMatchObject({ status: 'FAILED', code: 'DeadlineExceeded', retryable: true });
    expect(out.results[0]?.message).toMatch(/retryAfter \d+ s/);
  });
});
