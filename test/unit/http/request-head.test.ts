import { describe, expect, it } from 'vitest';
import { requestHead } from '../../../lib/http/request-head.js';

const url = new URL('http://resellertrade.aliyuncs.com:8080/a/b?x=1');

describe('requestHead', () => {
  it('writes the request line, the given headers, then host, content-length and keep-alive', () => {
    expect(requestHead('POST', url, { 'content-type': 'text/plain', 'x-acs-action': 'SendCoupon' }, 12)).toBe(
      'POST /a/b?x=1 HTTP/1.1\r\ncontent-type: text/plain\r\nx-acs-action: SendCoupon\r\n' +
        'host: resellertrade.aliyuncs.com:8080\r\ncontent-length: 12\r\nconnection: keep-alive\r\n\r\n',
    );
  });

  it('keeps a signed host header instead of adding one, and its own framing over the caller’s', () => {
    const head = requestHead(
      'POST',
      url,
      { host: 'signed.example', 'Content-Length': '999', 'transfer-encoding': 'chunked', Connection: 'close' },
      3,
    );
    expect(head).toBe(
      'POST /a/b?x=1 HTTP/1.1\r\nhost: signed.example\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n',
    );
  });

  it.each([
    ['a CR LF in a value', 'POST', { 'x-a': 'b\r\nx-b: c' }],
    ['a lone LF in a value', 'POST', { 'x-a': 'b\nc' }],
    ['a NUL in a value', 'POST', { 'x-a': 'b\0' }],
    ['a colon in a name', 'POST', { 'x-a: b': 'c' }],
    ['a space in a name', 'POST', { 'x a': 'c' }],
    ['an empty name', 'POST', { '': 'c' }],
    ['a method with a space', 'PO ST', {}],
  ])('refuses %s', (_name, method, headers) => {
    expect(() => requestHead(method, url, headers, 0)).toThrow(TypeError);
  });
});
