import fc from 'fast-check';
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

type Node =
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'literal'; value: true | false | null }
  | { kind: 'array'; items: Node[] }
  | { kind: 'object'; members: Array<[string, Node]> };

const render = (n: Node): string => {
  switch (n.kind) {
    case 'number':
      return n.text;
    case 'string':
      return JSON.stringify(n.value);
    case 'literal':
      return String(n.value);
    case 'array':
      return `[${n.items.map(render).join(', ')}]`;
    case 'object':
      return `{${n.members.map(([k, v]) => `${JSON.stringify(k)}: ${render(v)}`).join(',')}}`;
  }
};

/** A number's significant digits: sign, exponent, point and the zeros around them dropped. */
const significant = (text: string): string =>
  text
    .replace(/^-/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');

/** What the one reader must give for a text, decided from the text alone: the rules, not a second parser. */
const expected = (n: Node): unknown => {
  switch (n.kind) {
    case 'number': {
      const precise = /^-?\d+$/.test(n.text)
        ? Number.isSafeInteger(Number(n.text))
        : significant(n.text) === significant(String(Number(n.text)));
      if (!precise) return new UnreadableNumber(n.text, 'precision');
      if (fractionDigits(n.text) > 2) return new UnreadableNumber(n.text, 'decimals');
      return Number(n.text);
    }
    case 'string':
      return n.value;
    case 'literal':
      return n.value;
    case 'array':
      return n.items.map(expected);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of n.members)
        Object.defineProperty(out, k, { value: expected(v), enumerable: true, writable: true, configurable: true });
      return out;
    }
  }
};

describe('exact JSON, generated: the one reader of money input', () => {
  const number = fc.oneof(
    fc.integer().map(String),
    fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
    fc
      .tuple(fc.integer({ min: -99999, max: 99999 }), fc.nat({ max: 9999 }), fc.integer({ min: 0, max: 4 }))
      .map(([i, f, d]) => (d === 0 ? String(i) : `${i}.${String(f).padStart(d, '0').slice(0, d)}`)),
    fc.constantFrom('1e2', '1E-2', '-0', '0.1', '1.10', '1.005', '9007199254740993', '123456789012345', '1.5e1'),
  );
  const key = fc.oneof(fc.constantFrom('a', 'b', 'uid', 'amount', '__proto__', 'a:b', 'x"y', '\\'), fc.string());
  const node: fc.Arbitrary<Node> = fc.letrec<{ value: Node; array: Node; object: Node }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      number.map((text): Node => ({ kind: 'number', text })),
      fc.string().map((value): Node => ({ kind: 'string', value })),
      fc.constantFrom(true, false, null).map((value): Node => ({ kind: 'literal', value })),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }).map((items): Node => ({ kind: 'array', items })),
    object: fc
      .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 4, selector: ([k]) => k })
      .map((members): Node => ({ kind: 'object', members })),
  })).value;

  it('reads every generated text as its rules say: exact numbers, numbers kept as text with the reason', () => {
    fc.assert(
      fc.property(node, (n) => {
        expect(parseJsonExact(render(n))).toEqual(expected(n));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses an object whose key repeats with another value, wherever it is nested', () => {
    fc.assert(
      fc.property(node, key, fc.integer(), (n, k, v) => {
        const text = `[${render(n)}, {${JSON.stringify(k)}: ${v}, "z": 0, ${JSON.stringify(k)}: ${v + 1}}]`;
        expect(() => parseJsonExact(text)).toThrow(JsonSyntaxError);
      }),
      { numRuns: 500 },
    );
  });

  it('texts cut or spliced anywhere: a value or a JsonSyntaxError, and never more than JSON.parse accepts', () => {
    fc.assert(
      fc.property(node, fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (n, a, b, insert) => {
        const t = render(n);
        const at = a % (t.length + 1);
        const mutated = t.slice(0, at) + insert + t.slice(at + (b % 3));
        let read = true;
        try {
          parseJsonExact(mutated);
        } catch (err) {
          expect(err).toBeInstanceOf(JsonSyntaxError);
          read = false;
        }
        if (read) expect(() => JSON.parse(mutated) as unknown).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });

  it('reads texts nested deeper than the stack as an error, not a crash', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseJsonExact(deep)).toThrow(JsonSyntaxError);
  });
});
