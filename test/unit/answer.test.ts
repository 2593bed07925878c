import { describe, expect, it } from 'vitest';
import { renderDelivery } from '../../lib/answer.js';
import { AppError } from '../../lib/errors.js';
import { stringifyExact } from '../../lib/json.js';
import type { Operation, RecipientResult } from '../../lib/operation.js';
import type { OperationResult } from '../../lib/pipeline.js';
import { executed } from '../../lib/send/execute.js';
import { verdictOf } from '../../lib/verdict.js';
import { operation, recipient, sent } from '../fixtures/operations.js';

const op = (form: 'flat' | 'envelope', requestId = 'r-1'): Operation =>
  operation({
    requestId,
    fromApp: 'app',
    form,
    recipients: [recipient('1918000000883', 100), recipient('12345678901234567890', 0.5, 'string')],
  });
const result = (o: Operation, results: RecipientResult[], replayed = false): OperationResult => ({
  ref: { form: o.form, requestId: o.requestId, fromApp: o.fromApp },
  executed: executed(o, results, replayed),
});
const owed = (code: string): RecipientResult => ({ status: 'FAILED', code, message: 'm', retryable: true });

describe('verdictOf', () => {
  it.each<[string, RecipientResult[], Record<string, unknown>]>([
    ['all sent', [sent('1'), sent('2')], { httpStatus: 200, success: true, code: 'success' }],
    [
      'sent and unknown',
      [sent('1'), { status: 'UNKNOWN', code: 'Upstream.Timeout' }],
      { httpStatus: 200, code: 'PartialFailure' },
    ],
    ['only unknown', [{ status: 'UNKNOWN' }], { httpStatus: 200, code: 'UnknownOutcome' }],
    ['throttled', [owed('Throttling.User')], { httpStatus: 429, retryable: true, retryAfterSeconds: 1 }],
    ['refused call', [owed('SignatureDoesNotMatch')], { httpStatus: 502, code: 'SignatureDoesNotMatch' }],
    ['out of time', [owed('NotAttempted')], { httpStatus: 503 }],
    [
      'business rejection',
      [{ status: 'FAILED', code: 'COUPON_TEMPLATE_INVALID', message: 'm' }],
      { httpStatus: 422, retryable: false },
    ],
  ])('%s', (_name, results, expected) => {
    expect(verdictOf(results)).toMatchObject(expected);
  });

  it('says how many are still owed in a partial result', () => {
    const v = verdictOf([sent('1'), { status: 'FAILED', code: 'NotAttempted', retryable: true }]);
    expect(v).toMatchObject({ code: 'PartialFailure', retryable: true });
    expect(v.message).toContain('1 sent, 1 failed');
  });
});

describe('renderDelivery', () => {
  it("answers a flat request in its shape, ids in the caller's JSON types, every digit kept", () => {
    const r = renderDelivery({
      batch: false,
      results: [result(op('flat'), [sent('18338'), sent('9007199254740993')])],
    });
    expect(r.status).toBe(200);
    expect(stringifyExact(r.body)).toBe(
      '{"RequestId":"r-1","Success":true,"Code":"success","Message":"success","userAmountModelList":[{"amount":100,"uid":1918000000883,"youhuiId":18338,"status":"SENT"},{"amount":0.5,"uid":"12345678901234567890","youhuiId":9007199254740993,"status":"SENT"}]}',
    );
  });

  it.each([
    ['a string', { text: 'YH-18338', kind: 'string' as const }, '"YH-18338"'],
    ['a string of digits with a leading zero', { text: '0018338', kind: 'string' as const }, '"0018338"'],
    ['a number beyond 2^53', { text: '9007199254740993', kind: 'number' as const }, '9007199254740993'],
  ])('writes a coupon id that is %s exactly as the upstream sent it', (_name, youhuiId, written) => {
    const r = renderDelivery({
      batch: false,
      results: [result(op('flat'), [{ status: 'SENT', youhuiId }, sent('1')])],
    });
    expect(stringifyExact(r.body)).toContain(`"youhuiId":${written},"status":"SENT"`);
  });

  it('answers a batch with an array of envelopes, 200 even when an element failed, and marks replays', () => {
    const busy = new AppError(409, 'RequestInProgress', 'busy', { retryable: true });
    const r = renderDelivery({
      batch: true,
      results: [
        result(op('envelope', 'a'), [sent('1'), sent('2')], true),
        { ref: { form: 'envelope', requestId: 'b', fromApp: 'app' }, error: busy },
      ],
    });
    expect(r).toMatchObject({ status: 200, retryable: true });
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

  it('answers an invalid batch element in place with its errors; 400 only when no element ran', () => {
    const invalid = new AppError(400, 'InvalidParameter', 'bad', { errors: [{ path: '/1/param', message: 'm' }] });
    const refused: OperationResult = { ref: { form: 'envelope' }, error: invalid };
    const mixed = renderDelivery({
      batch: true,
      results: [result(op('envelope', 'a'), [sent('1'), sent('2')]), refused],
    });
    expect(mixed.status).toBe(200);
    expect((mixed.body as unknown[])[1]).toEqual({
      Success: false,
      Code: 'InvalidParameter',
      Message: 'bad',
      errors: invalid.errors,
    });
    expect(renderDelivery({ batch: true, results: [refused, refused] }).status).toBe(400);
  });

  it('uses the error shape (and Retry-After) when nothing was issued', () => {
    const r = renderDelivery({
      batch: false,
      results: [result(op('flat'), [owed('Throttling.User'), owed('Throttling.User')])],
    });
    expect(r).toMatchObject({ status: 429, headers: { 'Retry-After': '1' } });
    expect(r.body).toEqual({ RequestId: 'r-1', Success: false, Code: 'Throttling.User', Message: expect.any(String) });
    const invalid = renderDelivery({
      error: new AppError(400, 'InvalidParameter', 'bad', { errors: [{ path: '/x', message: 'm' }] }),
    });
    expect(invalid).toMatchObject({
      status: 400,
      body: { Success: false, Code: 'InvalidParameter', errors: [{ path: '/x', message: 'm' }] },
    });
  });

  it('marks a replayed single answer with Idempotent-Replayed', () => {
    const r = renderDelivery({ batch: false, results: [result(op('flat'), [sent('1'), sent('2')], true)] });
    expect(r.headers).toEqual({ 'Idempotent-Replayed': 'true' });
  });
});
