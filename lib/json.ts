import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { isSafeNumber, parse } from 'lossless-json';

/**
 * A JSON number that cannot be taken as it stands: `precision` when `JSON.parse` would change it (an integer
 * above 2^53-1, too many digits), `decimals` when its decimal value has more than two fractional digits
 * (judged from the text: `8.88`, `100.0` and `1e2` have at most two; `1e-10` and `0.30000000000000004` do not).
 */
export class UnreadableNumber {
  constructor(
    readonly text: string,
    readonly reason: 'precision' | 'decimals',
  ) {}
}

export class JsonSyntaxError extends Error {}

const NUMBER = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** How many fractional digits the decimal value written as `text` has, trailing zeros aside. */
export function fractionDigits(text: string): number {
  const m = NUMBER.exec(text);
  if (!m) return Infinity;
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  const exponent = Number(m[3] ?? '0');
  if (fraction === '' && exponent >= 0) return 0;
  return Math.max(0, fraction.length - exponent);
}

const reviveNumber = (text: string): number | UnreadableNumber => {
  if (!isSafeNumber(text)) return new UnreadableNumber(text, 'precision');
  if (fractionDigits(text) > 2) return new UnreadableNumber(text, 'decimals');
  return Number(text);
};

/**
 * Parses JSON without ever rounding a number: numbers that read exactly (with at most two decimals) become JS
 * numbers, others stay as their text so validation can name them. Duplicate keys are rejected.
 */
export function parseJsonExact(text: string): unknown {
  try {
    return parse(text, null, reviveNumber);
  } catch (err) {
    throw new JsonSyntaxError(err instanceof Error ? err.message : 'invalid JSON');
  }
}

/** Bytes to text, refusing invalid UTF-8 instead of replacing it with U+FFFD. Undefined when invalid. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  return isUtf8(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : undefined;
}

/*
 * JSON.stringify cannot write a number it does not hold, so an exact number goes out as a marker string (from its
 * toJSON, which JSON.stringify calls natively, far cheaper than a replacer function) that is then unquoted. The
 * marker carries a per-process random token and a control character, which JSON.stringify always escapes inside
 * real strings, so no value from a caller or the upstream can ever look like one.
 */
const MARK = `\u0001${randomBytes(6).toString('hex')}:`;
const MARKED = new RegExp(`"\\\\u0001${MARK.slice(1)}(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)"`, 'g');
const JSON_NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Text that can stand in JSON as a number. */
export const isJsonNumber = (text: string): boolean => JSON_NUMBER.test(text);

/** A parsed string or number as its text (an UnreadableNumber keeps the digits it came with); else undefined. */
export function jsonText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v instanceof UnreadableNumber) return v.text;
  return undefined;
}

/** A number written into JSON exactly as this text, whatever its size. */
export class RawNumber {
  constructor(readonly text: string) {
    if (!isJsonNumber(text)) throw new Error('not a JSON number');
  }

  toJSON(): string {
    return `${MARK}${this.text}`;
  }
}

export const rawNumber = (text: string): RawNumber => new RawNumber(text);

export function stringifyExact(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.includes(MARK.slice(1)) ? text.replace(MARKED, '$1') : text;
}
