import fc from 'fast-check';
import { isSafeNumber, parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import {
  fractionDigits,
  JsonSyntaxError,
  parseJsonExact,
  rawNumber,
  stringifyExact,
  UnreadableNumber,
} from '../../lib/json.js';

describe('exact JSON', () => {
  it.each([
    ['8.88', 2],
    ['100', 0],
    ['100.0', 0],
    ['1e2', 0],
    ['1.50e1', 0],
    ['1.234e1', 2],
    ['100.000001', 6],
    ['1e-10', 10],
    ['0.30000000000000004', 17],
  ])('%s has %i fractional digits', (text, digits) => {
    expect(fractionDigits(text)).toBe(digits);
  });

  it('keeps numbers it cannot take as they stand as their text, with the reason', () => {
    const v = parseJsonExact('{"a": 9007199254740993, "b": 1.001, "c": 8.88}') as Record<string, unknown>;
    expect(v['a']).toEqual(new UnreadableNumber('9007199254740993', 'precision'));
    expect(v['b']).toEqual(new UnreadableNumber('1.001', 'decimals'));
    expect(v['c']).toBe(8.88);
  });

  it('refuses duplicate keys with different values', () => {
    expect(() => parseJsonExact('{"a": 1, "a": 2}')).toThrow();
  });

  it('writes exact numbers of any size, and no caller string can pass for one', () => {
    expect(stringifyExact({ id: rawNumber('9007199254740993'), s: '\u0001x:1' })).toBe(
      '{"id":9007199254740993,"s":"\\u0001x:1"}',
    );
  });
});

/** The exact parser as it was before its native fast path, kept here as the oracle the fast path must agree with. */
function oracle(text: string): { value: unknown } | { error: true } {
  const revive = (t: string) =>
    !isSafeNumber(t)
      ? new UnreadableNumber(t, 'precision')
      : fractionDigits(t) > 2
        ? new UnreadableNumber(t, 'decimals')
        : Number(t);
  try {
    return { value: parse(text, null, revive) };
  } catch {
    return { error: true };
  }
}

function exact(text: string): { value: unknown } | { error: true } {
  try {
    return { value: parseJsonExact(text) };
  } catch (err) {
    expect(err).toBeInstanceOf(JsonSyntaxError);
    return { error: true };
  }
}

describe('exact JSON, generated: the native fast path reads exactly what the exact parser reads', () => {
  const number = fc.oneof(
    fc.integer().map(String),
    fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
    fc
      .tuple(fc.integer({ min: -99999, max: 99999 }), fc.nat({ max: 9999 }), fc.integer({ min: 0, max: 4 }))
      .map(([i, f, d]) => (d === 0 ? String(i) : `${i}.${String(f).padStart(d, '0').slice(0, d)}`)),
    fc.constantFrom(
      '1e2',
      '1E-2',
      '-0',
      '0.1',
      '1.10',
      '1.005',
      '9007199254740993',
      '123456789012345',
      '1.5e1',
      '01',
      '-',
      '1.',
    ),
  );
  const key = fc.oneof(fc.constantFrom('a', 'b', 'uid', 'amount', '__proto__', 'a:b', 'x"y', '\\'), fc.string());
  // JSON texts built by hand, so numbers keep the spelling chosen and keys may repeat.
  const text: fc.Arbitrary<string> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      number,
      fc.string().map((v) => JSON.stringify(v)),
      fc.constantFrom('true', 'false', 'null'),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    object: fc
      .array(fc.tuple(key, tie('value')), { maxLength: 4 })
      .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}}`),
  })).value as fc.Arbitrary<string>;

  it('agrees on generated texts: values, numbers kept as text, repeated keys, errors', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(exact(t)).toEqual(oracle(t));
      }),
      { numRuns: 4000 },
    );
  });

  it('agrees on texts cut or spliced anywhere', () => {
    fc.assert(
      fc.property(text, fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (t, a, b, insert) => {
        const at = a % (t.length + 1);
        const mutated = t.slice(0, at) + insert + t.slice(at + (b % 3));
        expect(exact(mutated)).toEqual(oracle(mutated));
      }),
      { numRuns: 4000 },
    );
  });

  it('reads texts nested deeper than the stack as an error, not a crash', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(exact(deep)).toEqual(oracle(deep));
  });
});
