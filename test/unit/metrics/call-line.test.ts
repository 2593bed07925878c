import { describe, expect, it } from 'vitest';
import { upstreamCallLine } from '../../../lib/metrics/call-line.js';
import type { UpstreamOutcome } from '../../../lib/resellertrade/mapping.js';

const chunk = { chunk: 2, chunks: 3, recipients: 10, amountCents: 8_880, upstreamRequestId: 'op-1:2/3' };

describe('upstreamCallLine', () => {
  it.each<[string, UpstreamOutcome, number | undefined, string, Record<string, unknown>]>([
    [
      'accepted',
      { kind: 'ok', httpStatus: 200, upstreamRequestId: 'UP-1', items: [] },
      undefined,
      'info',
      { outcome: 'ok', Code: 'success', upstreamHttpStatus: 200, throttled: false, upstreamResponseRequestId: 'UP-1' },
    ],
    [
      'a partial issue',
      { kind: 'ok', httpStatus: 200, partial: { code: 'PartialSuccess', message: 'some' } },
      undefined,
      'info',
      { outcome: 'ok', Code: 'PartialSuccess', Message: 'some' },
    ],
    [
      'throttled, retried',
      {
        kind: 'rejected',
        retry: 'throttled',
        blame: 'caller',
        code: 'Throttling.User',
        message: 'slow down',
        httpStatus: 400,
      },
      250,
      'warn',
      { outcome: 'rejected', Code: 'Throttling.User', throttled: true, retryInMs: 250, Message: 'slow down' },
    ],
    [
      'rejected for its content',
      { kind: 'rejected', retry: 'none', blame: 'content', code: 'InvalidUid', message: 'no such uid' },
      undefined,
      'warn',
      { outcome: 'rejected', Code: 'InvalidUid', throttled: false },
    ],
    [
      'no answer',
      { kind: 'unknown', code: 'Upstream.Timeout', message: 'timed out' },
      undefined,
      'error',
      { outcome: 'unknown', Code: 'Upstream.Timeout', throttled: false },
    ],
  ])('%s', (_name, outcome, retryInMs, level, expected) => {
    const line = upstreamCallLine({
      action: 'SendCoupon',
      chunk,
      attempt: 2,
      latencyMs: 41.6,
      outcome,
      ...(retryInMs === undefined ? {} : { retryInMs }),
    });
    expect(line.msg).toBe('upstream SendCoupon');
    expect(line.level).toBe(level);
    expect(line.fields).toMatchObject({
      metric: 'upstream_call',
      action: 'SendCoupon',
      ...chunk,
      attempt: 2,
      latencyMs: 42,
      ...expected,
    });
    if (retryInMs === undefined) expect(line.fields).not.toHaveProperty('retryInMs');
    for (const v of Object.values(line.fields)) expect(['string', 'number', 'boolean']).toContain(typeof v);
  });
});
