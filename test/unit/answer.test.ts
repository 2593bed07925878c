import { describe, expect, it } from 'vitest';
import { renderDelivery } from '../../lib/answer.js';
import { AppError } from '../../lib/errors.js';
import { stringifyExact } from '../../lib/json.js';
import type { Operation, RecipientResult } from '../../lib/operation.js';
import { summarize } from '../../lib/summary.js';

const op = (form: 'flat' | 'envelope', requestId = 'r-1'): Operation => ({
  sellerId: { digits: '1', kind: 'number' },
  templateId: { digits: '2', kind: 'number' },
  requestId,
  fromApp: 'app',
  form,
  recipients: [
    { uid: { digits: '1918000000883', kind: 'number' }, amount: 100 },
    { uid: { digits: '12345678901234567890', kind: 'string' }, amount: 0.5 },
  ],
});
const sent = (id: string): RecipientResult => ({ status: 'SENT', youhuiId: { digits: id, kind: 'number' } });
const outcome = (o: Operation, results: RecipientResult[], replayed = false) => ({
  operation: o,
  outcome: { operation: o, results, summary: summarize(results), replayed },
});

describe('summarize', () => {
  it('gives 200 only when something may have been issued, else the status that says why nothing was', () => {
    expect(summarize([sent('1'), sent('2')])).toMatchObject({ httpStatus: 200, success: true, code: 'success' });
    expect(summarize([sent('1'), { status: 'UNKNOWN', code: 'Upstream.Timeout' }])).toMatchObject({
      httpStatus: 200,
      success: false,
      code: 'PartialFailure',
    });
    expect(summarize([{ status: 'UNKNOWN' }])).toMatchObject({ httpStatus: 200, code: 'UnknownOutcome' });
    expect(summarize([{ status: 'FAILED', code: 'Throttling.User', message: 'm', retryable: true }])).toMatchObject({
      httpStatus: 429,
      retryable: true,
      retryAfterSeconds: 1,
    });
    expect(
      summarize([{ status: 'FAILED', code: 'SignatureDoesNotMatch', message: 'm', retryable: true }]),
    ).toMatchObject({ httpStatus: 502, code: 'SignatureDoesNotMatch' });
    expect(summarize([{ status: 'FAILED', code: 'NotAttempted', message: 'm', retryable: true }])).toMatchObject({
      httpStatus: 503,
    });
    expect(summarize([{ status: 'FAILED', code: 'COUPON_TEMPLATE_INVALID', message: 'm' }])).toMatchObject({
      httpStatus: 422,
      code: 'COUPON_TEMPLATE_INVALID',
      retryable: false,
    });
  });

  it('says how many are still owed in a partial result', () => {
    const s = summarize([sent('1'), { status: 'FAILED', code: 'NotAttempted', retryable: true }]);
    expect(s).toMatchObject({ code: 'PartialFailure', retryable: true });
    expect(s.message).toContain('1 sent, 1 failed');
  });
});

describe('renderDelivery', () => {
  it("answers a flat request in its shape, ids in the caller's JSON types, every digit kept", () => {
    const r = renderDelivery({
      batch: false,
      answers: [outcome(op('flat'), [sent('18338'), sent('9007199254740993')])],
    });
    expect(r.status).toBe(200);
    expect(stringifyExact(r.body)).toBe(
      '{"RequestId":"r-1","Success":true,"Code":"success","Message":"success","userAmountModelList":[{"amount":100,"uid":1918000000883,"youhuiId":18338,"status":"SENT"},{"amount":0.5,"uid":"12345678901234567890","youhuiId":9007199254740993,"status":"SENT"}]}',
    );
  });

  it('answers a batch with an array of envelopes, 200 even when an element failed, and marks replays', () => {
    const r = renderDelivery({
      batch: true,
      answers: [
        outcome(op('envelope', 'a'), [sent('1'), sent('2')], true),
        { operation: op('envelope', 'b'), error: new AppError(409, 'RequestInProgress', 'busy', { retryable: true }) },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.retryable).toBe(true);
    expect(r.headers['Idempotent-Replayed']).toBeUndefined();
    expect(r.body).toEqual([
      expect.objectContaining({
        fromApp: 'app',
        requestId: 'a',
        Success: true,
        param: { userAmountModelList: expect.any(Array) },
      }),
      { fromApp: 'app', requestId: 'b', Success: false, Code: 'RequestInProgress', Message: 'busy' },
    ]);
  });

  it('uses the error shape (and Retry-After) when nothing was issued', () => {
    const r = renderDelivery({
      batch: false,
      answers: [
        outcome(op('flat'), [
          { status: 'FAILED', code: 'Throttling.User', message: 'slow', retryable: true },
          { status: 'FAILED', code: 'Throttling.User', message: 'slow', retryable: true },
        ]),
      ],
    });
    expect(r.status).toBe(429);
    expect(r.headers['Retry-After']).toBe('1');
    expect(r.body).toEqual({
      RequestId: 'r-1',
      Success: false,
      Code: 'Throttling.User',
      Message: expect.stringContaining('slow'),
    });
    const invalid = renderDelivery({
      error: new AppError(400, 'InvalidParameter', 'bad', { errors: [{ path: '/x', message: 'm' }] }),
    });
    expect(invalid).toMatchObject({
      status: 400,
      body: { Success: false, Code: 'InvalidParameter', errors: [{ path: '/x', message: 'm' }] },
    });
  });

  it('marks a replayed single answer with Idempotent-Replayed', () => {
    expect(
      renderDelivery({ batch: false, answers: [outcome(op('flat'), [sent('1'), sent('2')], true)] }).headers,
    ).toEqual({ 'Idempotent-Replayed': 'true' });
  });
});
