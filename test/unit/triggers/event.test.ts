import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../lib/triggers/delivery.js';
import { decodeEvents } from '../../../lib/triggers/event.js';
import { docBatchRequestText } from '../../fixtures/requests.js';
import { eventBytes, loadEvent } from '../../events/load.js';

type Accepted = Extract<Delivery, { value: unknown }>;
const accepted = (d: Delivery | undefined): Accepted => {
  if (!d || 'refused' in d) throw new Error(`refused: ${d && 'refused' in d ? d.refused.message : 'missing'}`);
  return d;
};
const ce = loadEvent('cloudevent');

describe('CloudEvents and RawData', () => {
  it('decodes the captured CloudEvent and derives <source>:<id>', () => {
    const [d] = decodeEvents(eventBytes(ce));
    expect(accepted(d).rule).toEqual({ kind: 'default', value: `acs.coupon.campaign:${String(ce['id'])}` });
  });

  it('decodes an event-streaming array, data as a JSON string or an object', () => {
    const events = decodeEvents(eventBytes(loadEvent('cloudevents-streaming'))).map(accepted);
    expect(events.map((e) => e.label['eventId'])).toEqual(['evt-stream-1', 'evt-stream-2']);
    expect(events[0]?.value).toMatchObject({ userAmountModelList: [{ uid: '1918000000885', amount: 8.88 }] });
  });

  it("treats the documentation's batch array as RawData needing its own requestIds", () => {
    const [d] = decodeEvents(eventBytes(docBatchRequestText));
    expect(accepted(d).rule).toEqual({ kind: 'required' });
  });

  it.each<[string, unknown, string]>([
    ['id null', { ...ce, id: null }, '/id'],
    ['id ""', { ...ce, id: '' }, '/id'],
    ['id {}', { ...ce, id: {} }, '/id'],
    ['no id', { ...ce, id: undefined }, '/id'],
    ['source ""', { ...ce, source: '' }, '/source'],
    ['no data', { ...ce, data: undefined }, '/data'],
    ['data that is not JSON', { ...ce, data: '{"SellerId": ' }, '/data'],
  ])('refuses a CloudEvent with %s, naming the field', (_name, event, path) => {
    const [d] = decodeEvents(eventBytes(event));
    expect(d && 'refused' in d && d.refused).toMatchObject({ status: 400 });
    expect(d && 'refused' in d && d.refused.errors?.map((e) => e.path)).toContain(path);
  });

  it('isolates a poison event: the good ones of an array are still delivered', () => {
    const good = { ...ce, id: 'good' };
    const decoded = decodeEvents(
      eventBytes([good, { ...ce, id: undefined }, { ...ce, id: 'bad-data', data: 'nope' }, good]),
    );
    expect(decoded.map((d) => ('refused' in d ? d.refused.code : 'ok'))).toEqual([
      'ok',
      'InvalidEvent',
      'InvalidJson',
      'ok',
    ]);
    expect(decoded[1] && 'refused' in decoded[1] && decoded[1].refused.errors?.[0]?.path).toBe('/1/id');
  });

  it('refuses bytes that are not UTF-8 or not JSON as one delivery', () => {
    expect(decodeEvents(Buffer.from([0xff, 0xfe])).map((d) => 'refused' in d && d.refused.code)).toEqual([
      'InvalidEncoding',
    ]);
    expect(decodeEvents(Buffer.from('{')).map((d) => 'refused' in d && d.refused.code)).toEqual(['InvalidJson']);
  });

  it('quotes at most 64 characters of a long event id in its label', () => {
    const [d] = decodeEvents(eventBytes({ ...ce, id: 'i'.repeat(10_000) }));
    expect(accepted(d).label['eventId']?.length).toBeLessThanOrEqual(65);
  });
});
