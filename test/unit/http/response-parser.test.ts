import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HttpParseError,
  MAX_BODY_BYTES,
  ResponseParser,
  type ParsedResponse,
} from '../../../lib/http/response-parser.js';

const CHUNKED = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

/** Feeds `raw` in the given pieces; `closed` ends the connection after the last one. */
function parse(pieces: Array<string | Buffer>, closed = false): ParsedResponse | undefined {
  const parser = new ResponseParser();
  let result: ParsedResponse | undefined;
  for (const p of pieces) result ??= parser.push(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
  if (!result && closed) result = parser.end();
  return result;
}

const text = (r: ParsedResponse | undefined) => r && { ...r, body: r.body.toString('utf8') };

describe('ResponseParser reads what servers send', () => {
  it.each([
    [
      'content-length',
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Acs-Request-Id: A\r\n\r\n{}'],
      { status: 200, headers: { 'content-length': '2', 'x-acs-request-id': 'A' }, body: '{}', reusable: true },
    ],
    [
      'chunked, with an extension and a trailer',
      [`${CHUNKED}2;name=x\r\n{"\r\n4\r\na":1\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n`],
      { status: 200, body: '{"a":1}', reusable: true },
    ],
    ['chunked with upper-case hex sizes', [`${CHUNKED}A\r\n0123456789\r\n0\r\n\r\n`], { body: '0123456789' }],
    [
      'a body framed by closing the connection',
      ['HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>', 'down</html>'],
      { status: 502, body: '<html>down</html>', reusable: false },
    ],
    [
      '100 Continue and 103 Early Hints before the answer',
      [
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      ],
      { status: 200, headers: { 'content-length': '0' }, body: '' },
    ],
    ['204 has no body', ['HTTP/1.1 204 No Content\r\n\r\n'], { status: 204, body: '', reusable: true }],
    [
      'repeated headers joined, names lower-cased, values trimmed',
      ['HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSET-COOKIE:  b=2 \r\nContent-Length: 0\r\n\r\n'],
      { headers: { 'set-cookie': 'a=1, b=2', 'content-length': '0' } },
    ],
    [
      'a repeated, identical content-length',
      ['HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok'],
      { body: 'ok', reusable: true },
    ],
    ['Connection: close', ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'], { reusable: false }],
    ['HTTP/1.0', ['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'], { reusable: false }],
    ['bytes past the answer', ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab'], { body: 'a', reusable: false }],
    ['a status line without a reason', ['HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n'], { status: 200 }],
  ])('%s', (_name, pieces, expected) => {
    expect(text(parse(pieces, true))).toMatchObject(expected);
  });

  it('waits for the rest of a response split anywhere', () => {
    const parser = new ResponseParser();
    const raw = Buffer.from(`${CHUNKED}5\r\nhello\r\n0\r\n\r\n`);
    for (let i = 0; i < raw.length - 1; i++) expect(parser.push(raw.subarray(i, i + 1))).toBeUndefined();
    expect(parser.push(raw.subarray(raw.length - 1))?.body.toString()).toBe('hello');
    expect(parser.push(Buffer.from('more'))).toBeUndefined();
  });

  it('keeps UTF-8 split across chunks whole', () => {
    const body = Buffer.from('{"Message":"优惠券"}');
    const pieces = [
      `${CHUNKED}${body.length.toString(16)}\r\n`,
      body.subarray(0, 13),
      body.subarray(13),
      '\r\n0\r\n\r\n',
    ];
    expect(parse(pieces)?.body.toString('utf8')).toBe('{"Message":"优惠券"}');
  });
});

describe('ResponseParser refuses what could desynchronise a connection', () => {
  it.each([
    ['not HTTP', ['SSH-2.0-OpenSSH\r\n\r\n']],
    ['HTTP/2 status line', ['HTTP/2 200 OK\r\n\r\n']],
    ['a status outside 100–999', ['HTTP/1.1 20 OK\r\n\r\n']],
    ['an obsolete folded header', ['HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n']],
    ['a header name with a space', ['HTTP/1.1 200 OK\r\nX A: 1\r\nContent-Length: 0\r\n\r\n']],
    ['a header line without a colon', ['HTTP/1.1 200 OK\r\nnonsense\r\n\r\n']],
    ['both transfer-encoding and content-length', [`${CHUNKED.replace('\r\n\r\n', '\r\nContent-Length: 5\r\n\r\n')}`]],
    ['a coding other than chunked', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n']],
    ['conflicting content-lengths', ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc']],
    ['a negative content-length', ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n']],
    ['a content-length with a sign', ['HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok']],
    ['a chunk size that is not hex', [`${CHUNKED}zz\r\nab\r\n0\r\n\r\n`]],
    ['a chunk size with a sign', [`${CHUNKED}-2\r\nab\r\n0\r\n\r\n`]],
    ['chunk data longer than its size', [`${CHUNKED}2\r\nabc\r\n0\r\n\r\n`]],
    ['101 Switching Protocols', ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n']],
    ['a head over 64 KiB', [`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}`]],
    ['a chunk size line that never ends', [`${CHUNKED}${'0'.repeat(2000)}`]],
  ])('%s', (_name, pieces) => {
    expect(() => parse(pieces)).toThrow(HttpParseError);
  });

  it.each([
    ['in the head', 'HTTP/1.1 200 OK\r\nContent-Le'],
    ['inside a length-framed body', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
    ['inside a chunked body', `${CHUNKED}5\r\nab`],
    ['before the last chunk', `${CHUNKED}5\r\nhello\r\n`],
  ])('a connection closed %s is an unreadable answer, not a short one', (_name, raw) => {
    expect(() => parse([raw], true)).toThrow(/closed before the answer was complete/);
  });

  it('refuses bodies over 8 MiB, by their announced length or as they arrive', () => {
    expect(() => parse([`HTTP/1.1 200 OK\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`])).toThrow(
      expect.objectContaining({ code: 'ResponseTooLarge' }),
    );
    const parser = new ResponseParser();
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    expect(() => {
      for (let i = 0; i < 9; i++) parser.push(mib);
    }).toThrow(expect.objectContaining({ code: 'ResponseTooLarge' }));
  });
});

describe('ResponseParser, generated', () => {
  const body = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
  const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });

  function chunked(data: Buffer, sizes: number[]): Buffer {
    const parts: Buffer[] = [Buffer.from(CHUNKED)];
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const n = Math.min(sizes[i % sizes.length] as number, data.length - at);
      parts.push(Buffer.from(`${n.toString(16)}\r\n`), data.subarray(at, at + n), Buffer.from('\r\n'));
      at += n;
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    return Buffer.concat(parts);
  }

  function splitAt(raw: Buffer, cuts: number[]): Buffer[] {
    const points = [...new Set(cuts.map((c) => c % (raw.length + 1)))].sort((a, b) => a - b);
    const out: Buffer[] = [];
    let prev = 0;
    for (const p of [...points, raw.length]) {
      out.push(raw.subarray(prev, p));
      prev = p;
    }
    return out;
  }

  it('reads the same body however the bytes arrive, chunked or length-framed', () => {
    fc.assert(
      fc.property(body, chunkSizes, fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (data, sizes, cuts, useTe) => {
        const raw = useTe
          ? chunked(data, sizes)
          : Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`), data]);
        const result = parse(splitAt(raw, cuts));
        expect(result?.body.equals(data)).toBe(true);
        expect(result?.reusable).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers any byte string with a response, a wait, or an HttpParseError: never anything else', () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc
        .tuple(fc.constantFrom(CHUNKED, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', 'HTTP/1.1 '), fc.string())
        .map(([a, b]) => Buffer.from(a + b, 'latin1')),
    );
    fc.assert(
      fc.property(noise, fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (raw, cuts, closed) => {
        try {
          parse(splitAt(raw, cuts), closed);
        } catch (err) {
          expect(err).toBeInstanceOf(HttpParseError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
