import { describe, expect, it } from 'vitest';
import { AppError } from '../../../lib/errors.js';
import { parseHttpEvent, type HttpRequestView } from '../../../lib/triggers/http-event.js';
import { routeHttp } from '../../../lib/triggers/http.js';
import { eventBytes, httpPost, loadEvent } from '../../events/load.js';

const route = (event: unknown) => routeHttp(parseHttpEvent(eventBytes(event)));

function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('FC HTTP event', () => {
  it('routes the captured POST /coupons event, header names in any case', () => {
    const r = route(loadEvent('http-post-coupons'));
    expect(r.kind === 'send' && r.delivery).toMatchObject({ value: { RequestId: 'dsnjvui9svvsd-14indw' } });
  });

  it('answers the captured health check without a delivery', () => {
    expect(route(loadEvent('http-get-healthz'))).toEqual({ kind: 'health' });
  });

  it('decodes a strict base64 body', () => {
    const r = route(httpPost('{"a":1}', { base64: true }));
    expect(r.kind === 'send' && r.delivery).toMatchObject({ value: { a: 1 } });
  });

  const post = loadEvent('http-post-coupons');
  it.each<[string, unknown, string]>([
    ['not JSON', 'not json', ''],
    ['a JSON array', [], ''],
    ['no method', { ...post, requestContext: {} }, '/requestContext/http/method'],
    ['a body that is an object', { ...post, body: { a: 1 } }, '/body'],
    ['a body that is a number', { ...post, body: 7 }, '/body'],
    ['headers that are a list', { ...post, headers: ['a'] }, '/headers'],
    ['a Content-Type that is an object', { ...post, headers: { 'Content-Type': { a: 1 } } }, '/headers/Content-Type'],
    ['isBase64Encoded that is a string', { ...post, isBase64Encoded: 'yes' }, '/isBase64Encoded'],
    ['base64 with junk characters', { ...post, isBase64Encoded: true, body: 'eyJh*IjoxfQ==' }, '/body'],
    ['base64 with data after the padding', { ...post, isBase64Encoded: true, body: 'eyJhIjoxfQ==eyJh' }, '/body'],
    ['the base64url alphabet', { ...post, isBase64Encoded: true, body: 'eyJhIjoi-_8ifQ==' }, '/body'],
    [
      'a rawPath with bad percent-encoding',
      { ...post, rawPath: '/%E0', requestContext: { http: { method: 'POST' } } },
      '/rawPath',
    ],
  ])('refuses %s with 400 InvalidEvent', (_name, event, path) => {
    const err = refusal(() => parseHttpEvent(eventBytes(event)));
    expect(err).toMatchObject({ status: 400, code: 'InvalidEvent' });
    expect(err.errors?.[0]?.path).toBe(path);
  });

  it('refuses an event whose bytes are not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"body":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(refusal(() => parseHttpEvent(bytes))).toMatchObject({ status: 400, code: 'InvalidEncoding' });
  });
});

describe('HTTP rules', () => {
  const view = (init: Partial<HttpRequestView> = {}): HttpRequestView => ({
    method: 'POST',
    path: '/coupons',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{}'),
    ...init,
  });

  it.each<[string, Partial<HttpRequestView>, number, string]>([
    ['an unknown path', { path: '/nope' }, 404, 'NotFound'],
    ['GET on /coupons', { method: 'GET' }, 405, 'MethodNotAllowed'],
    ['POST on /healthz', { path: '/healthz' }, 405, 'MethodNotAllowed'],
    ['no Content-Type', { headers: {} }, 415, 'UnsupportedMediaType'],
    ['text/plain', { headers: { 'content-type': 'text/plain' } }, 415, 'UnsupportedMediaType'],
    [
      'charset utf-16',
      { headers: { 'content-type': 'application/json; charset=utf-16' } },
      415,
      'UnsupportedMediaType',
    ],
    [
      'charset "latin1"',
      { headers: { 'content-type': 'application/json;charset="latin1"' } },
      415,
      'UnsupportedMediaType',
    ],
    ['a body over 256 KiB', { body: Buffer.alloc(256 * 1024 + 1, 32) }, 413, 'PayloadTooLarge'],
    ['invalid UTF-8 in the body', { body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]) }, 400, 'InvalidEncoding'],
    ['a body that is not JSON', { body: Buffer.from('{') }, 400, 'InvalidJson'],
  ])('answers %s with %i %s', (_name, init, status, code) => {
    expect(refusal(() => routeHttp(view(init)))).toMatchObject({ status, code });
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=UTF-8',
    'application/merge-patch+json',
    'application/json,text/plain',
  ])('accepts Content-Type %s', (contentType) => {
    expect(routeHttp(view({ headers: { 'content-type': contentType } })).kind).toBe('send');
  });

  it('quotes at most 64 characters of a long value in an error', () => {
    const err = refusal(() => routeHttp(view({ path: `/${'x'.repeat(10_000)}` })));
    expect(err.message.length).toBeLessThan(200);
  });
});
