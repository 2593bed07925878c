import { describe, expect, it } from 'vitest';
import { parseJsonExact, stringifyExact } from '../../../lib/json.js';
import { decodeEvents } from '../../../lib/triggers/event.js';
import { cloudEventText, DEFAULT_BUS, DEFAULT_SOURCE } from '../../../cli/publish.js';

describe('coupon publish: the CloudEvent it puts on the bus', () => {
  it.each([
    '{"TemplateId": 295873, "userAmountModelList": [{"uid": 9007199254740993, "amount": 8.880}]}',
    '{"TemplateId":"295873","userAmountModelList":[{"uid":"1918000000883","amount":1e2}]}',
  ])('keeps the request text byte for byte: %s', (request) => {
    const text = cloudEventText(request, 'evt-1', DEFAULT_SOURCE, 'coupon:Send', DEFAULT_BUS);
    expect(text.endsWith(`"data":${request}}]`)).toBe(true);
    const [event] = parseJsonExact(text) as Array<Record<string, unknown>>;
    expect(stringifyExact(event?.['data'])).toBe(stringifyExact(parseJsonExact(request)));
    expect(event).toMatchObject({ specversion: '1.0', id: 'evt-1', aliyuneventbusname: 'coupon-sender' });
  });

  it('is an event the function decodes to the operation <source>:<id>', () => {
    const text = cloudEventText('{"TemplateId":"1","userAmountModelList":[]}', 'order-8812', DEFAULT_SOURCE, 't', 'b');
    const [delivery] = decodeEvents(Buffer.from(text));
    expect(delivery).toMatchObject({ rule: { kind: 'default', value: `${DEFAULT_SOURCE}:order-8812` } });
  });
});
