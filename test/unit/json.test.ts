import { describe, expect, it } from 'vitest';
import { fractionDigits, parseJsonExact, rawNumber, stringifyExact, UnreadableNumber } from '../../lib/json.js';

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
