import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { decodeSendRequest, deriveRequestId, type RequestLimits } from '../../lib/request.js';
import { decodeEvents } from '../../lib/triggers/event.js';
import { parseHttpEvent, routeHttp } from '../../lib/triggers/http.js';
import { decodeTimer } from '../../lib/triggers/timer.js';
import { cloudEvent, docBatchRequestText, docFlatRequest, timerEvent } from '../fixtures/requests.js';
import { httpEvent } from '../helpers/stack.js';

const limits: RequestLimits = { maxCouponAmount: 10000, maxRecipients: 100 };
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('FC HTTP event', () => {
  it('decodes a base64 body and header names in any case', () => {
    const view = parseHttpEvent(
      buf(
        httpEvent('/coupons', JSON.stringify(docFlatRequest), {
          base64: true,
          headers: { 'CONTENT-TYPE': 'application/json; charset=utf-8', 'X-Things': 'a,b' },
        }),
      ),
    );
    expect(view.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(view.headers['x-things']).toBe('a,b');
    const route = routeHttp(view);
    expect(route.kind === 'send' && route.delivery.value).toMatchObject({ RequestId: 'dsnjvui9svvsd-14indw' });
  });

  it('accepts a comma-joined Content-Type whose first value is JSON', () => {
    expect(
      routeHttp(
        parseHttpEvent(
          buf(httpEvent('/coupons', '{}', { headers: { 'content-type': 'application/json,text/plain' } })),
        ),
      ).kind,
    ).toBe('send');
  });

  it('refuses what is not an HTTP event', () => {
    expect(() => parseHttpEvent(buf({ hello: 1 }))).toThrow(AppError);
    expect(() => parseHttpEvent(buf('not json'))).toThrow(/not an FC HTTP trigger event/);
  });
});

describe('CloudEvents and RawData', () => {
  it('decodes one CloudEvent with object data and derives <source>:<id>', () => {
    const [d] = decodeEvents(buf(cloudEvent('e-1', docFlatRequest)));
    expect(d?.rule).toEqual({ kind: 'default', value: 'acs.coupon.campaign:e-1' });
  });

  it('decodes an array of CloudEvents whose data is a JSON string, keeping big integers exact', () => {
    const events = decodeEvents(
      buf([cloudEvent('a', '{"TemplateId": 12345678901234567890}'), cloudEvent('b', docFlatRequest)]),
    );
    expect(events).toHaveLength(2);
    const err = (() => {
      try {
        decodeSendRequest(events[0]?.value, limits, events[0]!.rule);
      } catch (e) {
        return e as AppError;
      }
      return undefined;
    })();
    expect(err?.errors).toContainEqual({
      path: '/TemplateId',
      message: expect.stringContaining('12345678901234567890 cannot be read exactly'),
    });
  });

  it("treats the documentation's batch array as RawData needing its own requestIds", () => {
    const [d] = decodeEvents(buf(docBatchRequestText));
    expect(d?.rule).toEqual({ kind: 'required' });
    const decoded = decodeSendRequest(d?.value, limits, d!.rule);
    expect(decoded.batch).toBe(true);
    expect(decoded.operations[0]).toMatchObject({
      requestId: 'dsnjvui9svvsd-14indw',
      bid: { digits: '26842' },
      operator: '12345',
      form: 'envelope',
    });
  });

  it('derives an id per batch element of an event that has none', () => {
    const data = [
      { fromApp: 'a', param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 3, amount: 1 }] } },
      { fromApp: 'a', param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 4, amount: 1 }] } },
    ];
    const [d] = decodeEvents(buf(cloudEvent('e-9', data)));
    expect(decodeSendRequest(d?.value, limits, d!.rule).operations.map((o) => o.requestId)).toEqual([
      'acs.coupon.campaign:e-9:1',
      'acs.coupon.campaign:e-9:2',
    ]);
  });
});

describe('timer events', () => {
  it('uses <RequestId or triggerName>:<triggerTime> as the operation id', () => {
    const named = decodeTimer(buf(timerEvent({ ...docFlatRequest })));
    expect(decodeSendRequest(named.value, limits, named.rule).operations[0]?.requestId).toBe(
      'dsnjvui9svvsd-14indw:2026-11-29T16:00:00Z',
    );
    const { RequestId: _r, ...noId } = docFlatRequest;
    const anonymous = decodeTimer(buf(timerEvent(noId)));
    expect(decodeSendRequest(anonymous.value, limits, anonymous.rule).operations[0]?.requestId).toBe(
      'nightly-campaign:2026-11-29T16:00:00Z',
    );
  });

  it('names the missing fields of a malformed timer event', () => {
    try {
      decodeTimer(buf({ triggerName: 't' }));
      expect.fail('should throw');
    } catch (err) {
      expect((err as AppError).errors?.map((e) => e.path)).toEqual(['/triggerTime', '/payload']);
    }
  });
});

describe('derived RequestIds', () => {
  it('replaces characters outside the set with _', () => {
    expect(deriveRequestId('acs:oss/bucket id#1')).toBe('acs:oss_bucket_id_1');
  });

  it('keeps 55 characters, a dot and 8 hex of SHA-256 of the whole when longer than 64', () => {
    const raw = `${'s'.repeat(60)}:${'i'.repeat(20)}`;
    const derived = deriveRequestId(raw);
    expect(derived).toHaveLength(64);
    expect(derived).toBe(`${raw.slice(0, 55)}.${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`);
    const withSlashes = `/campaigns/${'c'.repeat(60)}:evt-1`;
    const sanitised = withSlashes.replace(/\//g, '_');
    expect(deriveRequestId(withSlashes)).toBe(
      `${sanitised.slice(0, 55)}.${createHash('sha256').update(sanitised).digest('hex').slice(0, 8)}`,
    );
  });
});
