import { randomBytes } from 'node:crypto';
import { isSafeNumber, LosslessNumber, parse } from 'lossless-json';

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

/*
 * JSON.stringify cannot write a number it does not hold, so exact numbers go out as a marker string that is
 * then unquoted. The marker carries a per-process random token and a control character, which JSON.stringify
 * always escapes inside real strings, so no value from a caller or the upstream can ever look like one.
 */
const MARK = `\u0001${randomBytes(6).toString('hex')}:`;
const MARKED = new RegExp(`"\\\\u0001${MARK.slice(1)}(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)"`, 'g');

export function stringifyExact(value: unknown): string {
  const text =
    JSON.stringify(value, (_key, v: unknown) => (v instanceof LosslessNumber ? `${MARK}${v.value}` : v)) ?? 'null';
  return text.includes(MARK.slice(1)) ? text.replace(MARKED, '$1') : text;
}
