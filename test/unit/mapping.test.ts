import { describe, expect, it } from 'vitest';
import { classifyResponse, retryReasonFor } from '../../lib/resellertrade/mapping.js';
import { chunkRecordFor, recipientResults } from '../../lib/send/results.js';
import type { Operation } from '../../lib/operation.js';

const op: Operation = {
  sellerId: { digits: '3944837183', kind: 'number' },
  templateId: { digits: '295873', kind: 'number' },
  requestId: 'r-1',
  fromApp: 'app',
  form: 'flat',
  recipients: [
    { uid: { digits: '1918000000883', kind: 'number' }, amount: 100 },
    { uid: { digits: '12345678901234567890', kind: 'string' }, amount: 5 },
  ],
};

describe('classifyResponse', () => {
  it('maps the SDK shape (Data[]{Uid, YouhuiId}) keeping every digit', () => {
    const body =
      '{"RequestId":"R","Success":true,"Code":"success","Message":"success","Count":2,"Data":[{"Uid":1918000000883,"Amount":100,"YouhuiId":9007199254740993},{"Uid":12345678901234567890,"Amount":5,"YouhuiId":18339}]}';
    const out = classifyResponse(200, {}, body);
    expect(out).toEqual({
      kind: 'ok',
      upstreamRequestId: 'R',
      httpStatus: 200,
      items: [
        { uid: '1918000000883', youhuiId: '9007199254740993' },
        { uid: '12345678901234567890', youhuiId: '18339' },
      ],
    });
    const results = recipientResults(op, 50, { 1: chunkRecordFor(out, op.recipients, 'r-1', 0) });
    expect(results).toEqual([
      { status: 'SENT', youhuiId: { digits: '9007199254740993', kind: 'number' } },
      { status: 'SENT', youhuiId: { digits: '18339', kind: 'number' } },
    ]);
  });

  it("maps the documentation's shape (userAmountModelList[].youhuiId)", () => {
    const body =
      '{"youhuiId":18338,"userAmountModelList":[{"amount":100,"uid":1918000000883,"youhuiId":18338}],"RequestId":"dsnjvui9svvsd-14indw","Success":true,"Code":"success","Message":"success"}';
    expect(classifyResponse(200, {}, body)).toMatchObject({
      kind: 'ok',
      items: [{ uid: '1918000000883', youhuiId: '18338' }],
    });
  });

  it('treats a recipient missing from a listed answer as unconfirmed (UNKNOWN), never as sent', () => {
    const out = classifyResponse(200, {}, '{"Success":true,"Data":[{"Uid":1918000000883,"YouhuiId":1}]}');
    const results = recipientResults(op, 50, { 1: chunkRecordFor(out, op.recipients, 'r-1', 0) });
    expect(results.map((r) => r.status)).toEqual(['SENT', 'UNKNOWN']);
  });

  it('treats Success:false on HTTP 200 as a business rejection that issued nothing', () => {
    expect(
      classifyResponse(200, {}, '{"RequestId":"R","Success":false,"Code":"COUPON_TEMPLATE_INVALID","Message":"no"}'),
    ).toMatchObject({
      kind: 'rejected',
      terminal: 'business',
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
      terminal: 'refused',
      code: 'SignatureDoesNotMatch',
      message: 'bad sig',
      upstreamRequestId: '6BE5',
      hostId: 'resellertrade.aliyuncs.com',
      httpStatus: 403,
    });
  });

  it('marks gateway refusals retryable by reason, and honours Retry-After', () => {
    expect(classifyResponse(400, { 'retry-after': '2' }, '{"Code":"Throttling.User","Message":"m"}')).toMatchObject({
      kind: 'rejected',
      retry: 'throttled',
      retryAfterMs: 2000,
    });
    expect(classifyResponse(400, { 'x-acs-retry-after': '0.5' }, '{"Code":"Throttling.Api"}')).toMatchObject({
      retry: 'throttled',
      retryAfterMs: 500,
    });
    expect(retryReasonFor('SignatureNonceUsed')).toBe('nonce');
    expect(retryReasonFor('InvalidTimeStamp.Expired')).toBe('timestamp');
    expect(retryReasonFor('InvalidSecurityToken.Expired')).toBe('token');
    expect(retryReasonFor('InvalidParameter')).toBeUndefined();
  });

  it('treats other 4xx codes as business rejections', () => {
    expect(classifyResponse(400, {}, '{"Code":"InvalidParameter","Message":"bad uid"}')).toMatchObject({
      kind: 'rejected',
      terminal: 'business',
      retry: 'none',
    });
  });

  it('treats 5xx (InternalError, ServiceUnavailable) as unknown: the coupon may have been issued', () => {
    expect(classifyResponse(500, {}, '{"Code":"InternalError","Message":"m"}')).toMatchObject({
      kind: 'unknown',
      code: 'InternalError',
    });
    expect(classifyResponse(503, {}, '{"Code":"ServiceUnavailable"}')).toMatchObject({
      kind: 'unknown',
      code: 'ServiceUnavailable',
    });
  });

  it('reports a non-JSON body clearly: unknown on 2xx/5xx, refused on 4xx', () => {
    expect(classifyResponse(502, {}, '<html>Bad Gateway</html>')).toMatchObject({
      kind: 'unknown',
      code: 'Upstream.Http502',
      message: expect.stringContaining('not JSON'),
    });
    expect(classifyResponse(200, {}, 'OK')).toMatchObject({ kind: 'unknown', code: 'Upstream.InvalidResponse' });
    expect(classifyResponse(404, {}, 'not found')).toMatchObject({
      kind: 'rejected',
      terminal: 'refused',
      code: 'Upstream.Http404',
    });
  });
});
