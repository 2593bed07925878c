import { isSafeNumber, LosslessNumber, parse, stringify } from 'lossless-json';

/** A JSON number that `JSON.parse` would have changed (an integer above 2^53-1, or too many digits). */
export class InexactNumber {
  constructor(readonly text: string) {}
}

export class JsonSyntaxError extends Error {}

/**
 * Parses JSON without ever rounding a number: safe numbers become JS numbers, others stay as their text so
 * validation can name them. Duplicate keys with different values are rejected instead of last-one-wins.
 */
export function parseJsonExact(text: string): unknown {
  try {
    return parse(text, null, (value) => (isSafeNumber(value) ? Number(value) : new InexactNumber(value)));
  } catch (err) {
    throw new JsonSyntaxError(err instanceof Error ? err.message : 'invalid JSON');
  }
}

/** A number to write into JSON exactly as these digits, whatever their size. */
export function rawNumber(digits: string): LosslessNumber {
  return new LosslessNumber(digits);
}

export function stringifyExact(value: unknown): string {
  return stringify(value) ?? 'null';
}
