import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeCommand,
  MAX_BULK_BYTES,
  MAX_DEPTH,
  ProtocolError,
  ReplyError,
  ReplyParser,
  type Reply,
} from '../../../lib/redis/resp.js';

const parseAll = (chunks: Buffer[]): Reply[] => {
  const parser = new ReplyParser();
  return chunks.flatMap((c) => parser.feed(c));
};

/** Every way of cutting `bytes` in two, and one byte at a time. */
const everySplit = (bytes: Buffer): Buffer[][] => [
  ...Array.from({ length: bytes.length + 1 }, (_, i) => [bytes.subarray(0, i), bytes.subarray(i)]),
  Array.from(bytes, (b) => Buffer.from([b])),
];

/** A reply as a server writes it, for the round-trip property. */
function encodeReply(reply: Reply): string {
  if (reply === null) return '$-1\r\n';
  if (reply instanceof ReplyError) return `-${reply.message}\r\n`;
  if (typeof reply === 'number') return `:${reply}\r\n`;
  if (typeof reply === 'string') return `$${Buffer.byteLength(reply)}\r\n${reply}\r\n`;
  return `*${reply.length}\r\n${reply.map(encodeReply).join('')}`;
}

const replyArb: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'grapheme' }),
    fc.integer(),
    fc.constant(null),
    fc.stringMatching(/^[A-Z]{3,9} [a-z ]{0,20}$/).map((m) => new ReplyError(m)),
    fc.array(tie('reply'), { maxLength: 5 }),
  ),
})).reply;

describe('the RESP2 reply parser', () => {
  it.each<[string, string, Reply]>([
    ['a simple string', '+OK\r\n', 'OK'],
    ['an empty simple string', '+\r\n', ''],
    ['an integer', ':1000\r\n', 1000],
    ['a negative integer', ':-42\r\n', -42],
    ['a bulk string', '$5\r\nhello\r\n', 'hello'],
    ['an empty bulk string', '$0\r\n\r\n', ''],
    ['a bulk string holding CRLF', '$4\r\na\r\nb\r\n', 'a\r\nb'],
    ['a UTF-8 bulk string', `$${Buffer.byteLength('优惠券')}\r\n优惠券\r\n`, '优惠券'],
    ['a null bulk', '$-1\r\n', null],
    ['a null array', '*-1\r\n', null],
    ['an empty array', '*0\r\n', []],
    ['a flat array', '*2\r\n$3\r\nfoo\r\n:7\r\n', ['foo', 7]],
    ['nested arrays', '*2\r\n*2\r\n:1\r\n*1\r\n$1\r\nx\r\n*0\r\n', [[1, ['x']], []]],
    ['an array holding nulls', '*3\r\n$-1\r\n*-1\r\n+ok\r\n', [null, null, 'ok']],
    ['a SCAN reply', '*2\r\n$1\r\n0\r\n*2\r\n$6\r\nk:1234\r\n$3\r\nk:5\r\n', ['0', ['k:1234', 'k:5']]],
  ])('reads %s, however the bytes are split', (_name, wire, expected) => {
    for (const chunks of everySplit(Buffer.from(wire, 'utf8'))) expect(parseAll(chunks)).toEqual([expected]);
  });

  it('reads error replies as ReplyError, on their own and inside arrays, however split', () => {
    const wire = Buffer.from('-NOSCRIPT No matching script.\r\n*2\r\n-ERR inner\r\n:1\r\n');
    for (const chunks of everySplit(wire)) {
      const [top, array] = parseAll(chunks);
      expect(top).toBeInstanceOf(ReplyError);
      expect((top as ReplyError).message).toBe('NOSCRIPT No matching script.');
      expect(Array.isArray(array) && array[0]).toBeInstanceOf(ReplyError);
      expect(Array.isArray(array) && array[1]).toBe(1);
    }
  });

  it('gives back several pipelined replies from one chunk, in order, and keeps a partial one for later', () => {
    const parser = new ReplyParser();
    expect(parser.feed(Buffer.from('+a\r\n:2\r\n$3\r\nxy'))).toEqual(['a', 2]);
    expect(parser.feed(Buffer.from('z\r\n+b\r'))).toEqual(['xyz']);
    expect(parser.feed(Buffer.from('\n'))).toEqual(['b']);
  });

  it('reads a 16 MiB bulk fed in 64 KiB chunks, exactly', () => {
    const size = 16 * 1024 * 1024;
    const payload = Buffer.alloc(size, 'a');
    payload.write('end', size - 3);
    const wire = Buffer.concat([Buffer.from(`*2\r\n$${size}\r\n`), payload, Buffer.from('\r\n:1\r\n')]);
    const parser = new ReplyParser();
    const replies: Reply[] = [];
    for (let i = 0; i < wire.length; i += 65536) replies.push(...parser.feed(wire.subarray(i, i + 65536)));
    expect(replies).toHaveLength(1);
    const [bulk, one] = replies[0] as [string, number];
    expect(bulk.length).toBe(size);
    expect(bulk.endsWith('aend')).toBe(true);
    expect(one).toBe(1);
  });

  it.each<[string, string, RegExp]>([
    ['an unknown type byte', '?what\r\n', /type byte "\?"/],
    ['HTTP instead of RESP', 'HTTP/1.1 400 Bad Request\r\n', /type byte "H"/],
    ['a RESP3 map', '%1\r\n+a\r\n+b\r\n', /type byte "%"/],
    ['a non-numeric integer', ':12a\r\n', /integer "12a" is not an integer/],
    ['an empty integer', ':\r\n', /not an integer/],
    ['an integer beyond 2^53', ':9007199254740993\r\n', /beyond what a number holds exactly/],
    ['a non-numeric bulk length', '$x\r\nabc\r\n', /bulk length "x"/],
    ['a bulk length below -1', '$-2\r\n', /bulk length of -2/],
    ['a bulk over the Redis limit', `$${MAX_BULK_BYTES + 1}\r\n`, /over Redis's own limit/],
    ['a bulk not followed by CRLF', '$3\r\nabcd\r\n', /not followed by CRLF/],
    ['a negative array length', '*-5\r\n', /array length of -5/],
    ['a bare line feed', '+OK\n', /line feed without a carriage return/],
    ['a carriage return not followed by a line feed', '+O\rK\r\n', /carriage return without a line feed/],
    ['arrays nested too deep', '*1\r\n'.repeat(MAX_DEPTH + 1), /nested deeper than 64/],
  ])('refuses %s with a ProtocolError saying what was wrong', (_name, wire, message) => {
    expect(() => parseAll([Buffer.from(wire, 'utf8')])).toThrow(ProtocolError);
    expect(() => parseAll([Buffer.from(wire, 'utf8')])).toThrow(message);
  });

  it('refuses a line that never ends instead of buffering without bound', () => {
    const parser = new ReplyParser();
    expect(() => {
      for (let i = 0; i < 20; i++) parser.feed(Buffer.alloc(64 * 1024, 'a'.charCodeAt(0)).fill('+', 0, 1));
    }).toThrow(/line longer than/);
  });

  it('reads any reply, split anywhere, as it was written (property)', () => {
    fc.assert(
      fc.property(
        fc.array(replyArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (replies, cuts) => {
          const wire = Buffer.from(replies.map(encodeReply).join(''), 'utf8');
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((start, i) => wire.subarray(start, [...points, wire.length][i]));
          expect(parseAll(chunks)).toEqual(replies);
        },
      ),
    );
  });

  it('never crashes on random bytes: it returns replies, waits for more, or throws a ProtocolError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(200), (bytes, cut) => {
        const wire = Buffer.from(bytes);
        const at = cut % (wire.length + 1);
        try {
          parseAll([wire.subarray(0, at), wire.subarray(at)]);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});

describe('the command encoder', () => {
  it('writes an array of bulk strings, counting bytes, not characters', () => {
    expect(encodeCommand(['SET', 'k', '优']).toString('utf8')).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n优\r\n');
    expect(encodeCommand(['PING']).toString()).toBe('*1\r\n$4\r\nPING\r\n');
  });
});
