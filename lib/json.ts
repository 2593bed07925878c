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
  const common = parsePlain(text);
  if (common !== NOT_PLAIN) return common;
  try {
    return parse(text, null, reviveNumber);
  } catch (err) {
    throw new JsonSyntaxError(err instanceof Error ? err.message : 'invalid JSON');
  }
}

const NOT_PLAIN = Symbol('not plain');
/** Deeper texts take the exact parser's way, which refuses what would overflow the stack of later walks. */
const PLAIN_MAX_DEPTH = 32;

/**
 * The common case at native speed. When every number in the text has at most 15 digits (so it converts exactly)
 * and at most two after the point, with no exponent, and no key repeats, JSON.parse reads exactly what the exact
 * parser would. Otherwise (or nested deeper than 32), and for any text JSON.parse refuses, NOT_PLAIN: the exact
 * parser decides, errors included. Outside strings, every `:` ends a key, so fewer keys parsed than colons
 * scanned means a repeat.
 */
function parsePlain(text: string): unknown {
  let colons = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x3a) colons++;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > PLAIN_MAX_DEPTH) return NOT_PLAIN;
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let digits = 0;
      let fraction = -1;
      let j = c === 0x2d ? i + 1 : i;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d >= 0x30 && d <= 0x39) {
          digits++;
          if (fraction >= 0) fraction++;
        } else if (d === 0x2e && fraction < 0) fraction = 0;
        else break;
      }
      const after = text.charCodeAt(j);
      if (digits > 15 || fraction > 2 || after === 0x65 || after === 0x45) return NOT_PLAIN;
      i = j - 1;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return NOT_PLAIN;
  }
  return keyCount(value) === colons ? value : NOT_PLAIN;
}

/** Keys in every object of a parsed value; iterative, since a hostile text may nest deeper than the stack. */
function keyCount(value: unknown): number {
  let n = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) for (const item of v) pending.push(item);
    else
      for (const k in v) {
        n += 1;
        pending.push((v as Record<string, unknown>)[k]);
      }
  }
  return n;
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
