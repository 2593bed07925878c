import { describe, expect, it } from 'vitest';
import type { RecipientResult } from '../../../lib/operation.js';
import { classifyResponse, retryReasonFor } from '../../../lib/resellertrade/mapping.js';
import { MAX_SERVER_WAIT_MS } from '../../../lib/resellertrade/server-wait.js';
import { chunkRecordFor, recipientResults } from '../../../lib/send/results.js';
import { operation, recipient, sent } from '../../fixtures/operations.js';

const op = operation({ recipients: [recipient('1918000000883', 100), recipient('12345678901234567890', 5, 'string')] });
const resultsOf = (status: number, body: string, headers: Record<string, string> = {}): RecipientResult[] =>
  recipientResults(op, 50, { 1: chunkRecordFor(classifyResponse(status, headers, body), op.recipients, 'r-1', 0) });
const num = (text: string) => ({ text, kind: 'number' as const });

describe('classifyResponse', () => {
  it('maps the SDK shape (Data[]{Uid, YouhuiId}) keeping every digit', () => {
    const body =
      '{"RequestId":"R","Success":true,"Code":"success","Message":"success","Count":2,"Data":[{"Uid":1918000000883,"Amount":100,"YouhuiId":9007199254740993},{"Uid":12345678901234567890,"Amount":5,"YouhuiId":18339}]}';
    expect(classifyResponse(200, {}, body)).toEqual({
      kind: 'ok',
      upstreamRequestId: 'R',
      httpStatus: 200,
      items: [
        { uid: '1918000000883', youhuiId: num('9007199254740993') },
        { uid: '12345678901234567890', youhuiId: num('18339') },
      ],
    });
    expect(resultsOf(200, body)).toEqual([sent('9007199254740993'), sent('18339')]);
  });

  it("maps the documentation's shape (userAmountModelList[].youhuiId)", () => {
    const body =
      '{"youhuiId":18338,"userAmountModelList":[{"amount":100,"uid":1918000000883,"youhuiId":18338}],"RequestId":"dsnjvui9svvsd-14indw","Success":true,"Code":"success","Message":"success"}';
    expect(classifyResponse(200, {}, body)).toMatchObject({
      kind: 'ok',
      items: [{ uid: '1918000000883', youhuiId: num('18338') }],
    });
  });

  it.each([
    ['a string', '"YH-18338"', { text: 'YH-18338', kind: 'string' }],
    ['digits with leading zeros', '"0018338"', { text: '0018338', kind: 'string' }],
    ['a number beyond 2^53', '9007199254740993', { text: '9007199254740993', kind: 'number' }],
  ])('keeps a coupon id that is %s exactly as sent', (_name, written, youhuiId) => {
    const body = `{"Success":true,"Data":[{"Uid":1918000000883,"YouhuiId":${written}},{"Uid":"12345678901234567890","YouhuiId":1}]}`;
    expect(resultsOf(200, body)[0]).toEqual({ status: 'SENT', youhuiId });
  });

  it.each([
    ['{}', '{}'],
    ['Data null', '{"Data": null}'],
    ['an empty Data list', '{"Success": true, "Data": []}'],
    ['success without a list', '{"RequestId":"R","Success":true,"Code":"success"}'],
  ])('confirms nobody with a 200 of %s: every recipient UNKNOWN, never SENT', (_name, body) => {
    expect(resultsOf(200, body).map((r) => [r.status, r.code])).toEqual([
      ['UNKNOWN', 'NotConfirmed'],
      ['UNKNOWN', 'NotConfirmed'],
    ]);
  });

  it('treats a recipient missing from a listed answer as unconfirmed (UNKNOWN), never as sent', () => {
    expect(resultsOf(200, '{"Success":true,"Data":[{"Uid":1918000000883,"YouhuiId":1}]}').map((r) => r.status)).toEqual(
      ['SENT', 'UNKNOWN'],
    );
  });

  it('never reports FAILED a recipient that a Success:false answer names as issued (partial issue)', () => {
    const body =
      '{"Success":false,"Code":"PARTIAL","Message":"some failed","Data":[{"Uid":1918000000883,"YouhuiId":7}]}';
    expect(classifyResponse(200, {}, body)).toMatchObject({ kind: 'ok', partial: { code: 'PARTIAL' } });
    const [first, second] = resultsOf(200, body);
    expect(first).toEqual(sent('7'));
    expect(second).toMatchObject({
      status: 'UNKNOWN',
      code: 'NotConfirmed',
      message: expect.stringContaining('PARTIAL'),
    });
  });

  it('treats Success:false on HTTP 200 without issued coupons as a business rejection that issued nothing', () => {
    expect(
      classifyResponse(200, {}, '{"RequestId":"R","Success":false,"Code":"COUPON_TEMPLATE_INVALID","Message":"no"}'),
    ).toMatchObject({
      kind: 'rejected',
      blame: 'content',
      retry: 'none',
      code: 'COUPON_TEMPLATE_INVALID',
      message: 'no',
      upstreamRequestId: 'R',
    });
  });

  it('keeps Code, Message, RequestId and HostId of a non-2xx Alibaba error', () => {
    const body =
      '{"RequestId":"6BE5","HostId":"resellertrade.aliyuncs.com","Code":"SignatureDoesNotMatch","Message":"bad sig","Recommend":"https://x"}';
    expect(classifyResponse(403, {}, body)).toEqual({
      kind: 'rejected',
      retry: 'none',
      blame: 'caller',
      code: 'SignatureDoesNotMatch',
      message: 'bad sig',
      upstreamRequestId: '6BE5',
      hostId: 'resellertrade.aliyuncs.com',
      httpStatus: 403,
    });
  });

  it.each<[string, Record<string, string>, number | undefined]>([
    ['Retry-After in seconds', { 'retry-after': '2' }, 2000],
    ['x-acs-retry-after in milliseconds', { 'x-acs-retry-after': '500' }, 500],
    ['x-acs-retry-after before Retry-After', { 'x-acs-retry-after': '300', 'retry-after': '9' }, 300],
    ['a huge Retry-After, capped', { 'retry-after': '3600' }, MAX_SERVER_WAIT_MS],
    ['a huge x-acs-retry-after, capped', { 'x-acs-retry-after': '99999999' }, MAX_SERVER_WAIT_MS],
    ['a negative one, as zero', { 'retry-after': '-5' }, 0],
    ['an unreadable one, ignored', { 'retry-after': 'soon' }, undefined],
  ])('reads %s', (_name, headers, ms) => {
    const out = classifyResponse(400, headers, '{"Code":"Throttling.User","Message":"m"}');
    expect(out).toMatchObject({ kind: 'rejected', retry: 'throttled' });
    expect(out.kind === 'rejected' && out.retryAfterMs).toBe(ms);
  });

  it.each([
    ['SignatureNonceUsed', 'nonce'],
    ['InvalidTimeStamp.Expired', 'timestamp'],
    ['InvalidSecurityToken.Expired', 'token'],
    ['Throttling.Api', 'throttled'],
    ['InvalidParameter', undefined],
  ])('retry reason of %s is %s', (code, reason) => {
    expect(retryReasonFor(code)).toBe(reason);
  });

  it.each<[string, number, string, Record<string, unknown>]>([
    [
      'other 4xx codes',
      400,
      '{"Code":"InvalidParameter","Message":"bad uid"}',
      { kind: 'rejected', blame: 'content', retry: 'none' },
    ],
    ['500 InternalError', 500, '{"Code":"InternalError","Message":"m"}', { kind: 'unknown', code: 'InternalError' }],
    ['503 ServiceUnavailable', 503, '{"Code":"ServiceUnavailable"}', { kind: 'unknown', code: 'ServiceUnavailable' }],
    ['a 502 HTML page', 502, '<html>Bad Gateway</html>', { kind: 'unknown', code: 'Upstream.Http502' }],
    ['a 200 that is not JSON', 200, 'OK', { kind: 'unknown', code: 'Upstream.InvalidResponse' }],
    ['a 404 that is not JSON', 404, 'not found', { kind: 'rejected', blame: 'caller', code: 'Upstream.Http404' }],
  ])('classifies %s', (_name, status, body, expected) => {
    expect(classifyResponse(status, {}, body)).toMatchObject(expected);
  });

  it('masks uids in a body it quotes', () => {
    const out = classifyResponse(502, {}, 'upstream broke for uid 1918000000883');
    expect(JSON.stringify(out)).not.toContain('1918000000883');
  });
});
