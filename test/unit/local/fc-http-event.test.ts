import { describe, expect, it } from 'vitest';
import { parseHttpEvent } from '../../../lib/triggers/http-event.js';
import { buildHttpEvent } from '../../../local/fc-http-event.js';
import { eventBytes, loadEvent } from '../../events/load.js';

/** Every key path of a JSON value, so two events can be compared by shape. */
function shape(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) =>
    k === 'headers' || k === 'queryParameters' ? [`${prefix}/${k}`] : shape(v, `${prefix}/${k}`),
  );
}

const captured = loadEvent('http-post-coupons');
const built = (init: { body?: Buffer; contentType?: string; path?: string } = {}) =>
  buildHttpEvent({
    method: 'POST',
    url: new URL(`http://127.0.0.1:9000${init.path ?? '/coupons?a=1&a=2'}`),
    rawHeaders: ['Content-Type', init.contentType ?? 'application/json', 'X-Multi', 'a', 'X-Multi', 'b'],
    httpVersion: '1.1',
    sourceIp: '127.0.0.1',
    body: init.body ?? Buffer.from('{"a":1}'),
    requestId: '1-test',
    accountId: '1234567890123456',
    now: Date.parse('2026-11-29T06:41:11Z'),
  });

describe("the gateway's FC HTTP events", () => {
  it('have the shape of the captured FC 3.0 event', () => {
    expect(shape(built()).sort()).toEqual(shape(captured).sort());
  });

  it('join repeated headers and query keys with commas, keep header case, and decode the path', () => {
    const event = built({ path: '/cou%70ons?a=1&a=2' });
    expect(event.headers['X-Multi']).toBe('a,b');
    expect(event.queryParameters).toEqual({ a: '1,2' });
    expect([event.rawPath, event.requestContext.http.path]).toEqual(['/cou%70ons', '/coupons']);
    expect(event.requestContext.time).toBe('2026-11-29T06:41:11Z');
  });

  it('pass bytes that are not UTF-8 as base64, so the function sees them as they came', () => {
    const event = built({ body: Buffer.from([0x7b, 0xff, 0x7d]) });
    expect(event.isBase64Encoded).toBe(true);
    expect(parseHttpEvent(eventBytes(event)).body).toEqual(Buffer.from([0x7b, 0xff, 0x7d]));
  });

  it('refuses a path with invalid percent-encoding', () => {
    expect(() => built({ path: '/%E0' })).toThrow(URIError);
  });
});
