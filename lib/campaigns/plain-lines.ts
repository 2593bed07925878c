/**
 * The common list line, read from its bytes without making a string or an object: a CSV line `uid,amount`, or a
 * JSONL line `{"uid":…,"amount":…}` (either order, JSON whitespace allowed), with a canonical uid from 1 to
 * 9223372036854775807 (the upstream's Long; as a JSON number at most 2^53-1) and an amount `0`…`999999999` with
 * up to 2 decimals, in plain notation (no exponent, no sign). Planning a million lines this way keeps V8's young
 * generation small: measured, a million-line CSV plans in about 100 MB RSS instead of about 130 MB. Any other
 * line is for the general path, which also words the problems; a property test holds both to the same verdicts.
 */

/** The parts of the last line a reader accepted; written into, never allocated per line. */
export interface PlainLine {
  /** The uid's digits are bytes [uidStart, uidEnd). */
  uidStart: number;
  uidEnd: number;
  /** Bytes [amountStart, amountEnd) are the amount in the plain form it is sent in (`8.80` → `8.8`). */
  amountStart: number;
  amountEnd: number;
  cents: number;
  /** cents / 100: the very double the amount's text reads as. */
  amount: number;
}

export const emptyPlainLine = (): PlainLine => ({
  uidStart: 0,
  uidEnd: 0,
  amountStart: 0,
  amountEnd: 0,
  cents: 0,
  amount: 0,
});

const LONG_MAX = Buffer.from('9223372036854775807');
const SAFE_MAX = Buffer.from('9007199254740991');
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COMMA = 0x2c;
const POINT = 0x2e;
const QUOTE = 0x22;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const UID = Buffer.from('uid');
const AMOUNT = Buffer.from('amount');

const isDigit = (b: number | undefined) => b !== undefined && b >= DIGIT_0 && b <= DIGIT_9;

/** Canonical digits (no leading zero) in [from, to), at most `max` (same length compared bytewise). */
function canonicalDigits(bytes: Buffer, from: number, to: number, max: Buffer): boolean {
  const length = to - from;
  if (length < 1 || length > max.length || bytes[from] === DIGIT_0) return false;
  for (let i = from; i < to; i++) if (!isDigit(bytes[i])) return false;
  return length < max.length || bytes.compare(max, 0, max.length, from, to) <= 0;
}

function digitsValue(bytes: Buffer, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + ((bytes[i] ?? 0) - DIGIT_0);
  return value;
}

/** The amount in [from, to): `0|[1-9][0-9]{0,8}` with an optional `.` and 1-2 digits, > 0, ≤ max. */
function readAmount(bytes: Buffer, from: number, to: number, max: number, out: PlainLine): boolean {
  let point = bytes.indexOf(POINT, from);
  if (point >= to) point = -1;
  const intEnd = point === -1 ? to : point;
  const intDigits = intEnd - from;
  if (intDigits < 1 || intDigits > 9 || (intDigits > 1 && bytes[from] === DIGIT_0)) return false;
  for (let i = from; i < intEnd; i++) if (!isDigit(bytes[i])) return false;
  let fraction = 0;
  let end = to;
  if (point !== -1) {
    const fractionDigits = to - point - 1;
    if (fractionDigits < 1 || fractionDigits > 2) return false;
    for (let i = point + 1; i < to; i++) if (!isDigit(bytes[i])) return false;
    const f = digitsValue(bytes, point + 1, to);
    fraction = fractionDigits === 1 ? f * 10 : f;
    while (end > point + 1 && bytes[end - 1] === DIGIT_0) end -= 1;
    if (end === point + 1) end = point;
  }
  const cents = digitsValue(bytes, from, intEnd) * 100 + fraction;
  const amount = cents / 100;
  if (cents <= 0 || amount > max) return false;
  out.amountStart = from;
  out.amountEnd = end;
  out.cents = cents;
  out.amount = amount;
  return true;
}

export function readPlainCsv(bytes: Buffer, maxCouponAmount: number, out: PlainLine): boolean {
  const comma = bytes.indexOf(COMMA);
  if (comma < 1 || !canonicalDigits(bytes, 0, comma, LONG_MAX)) return false;
  if (!readAmount(bytes, comma + 1, bytes.length, maxCouponAmount, out)) return false;
  out.uidStart = 0;
  out.uidEnd = comma;
  return true;
}

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;

function skipSpace(bytes: Buffer, i: number): number {
  while (isSpace(bytes[i])) i += 1;
  return i;
}

/** Where a run of `[0-9.]` starting at `from` ends. */
function numberEnd(bytes: Buffer, from: number): number {
  let i = from;
  while (isDigit(bytes[i]) || bytes[i] === POINT) i += 1;
  return i;
}

const keyIs = (bytes: Buffer, from: number, to: number, key: Buffer) =>
  to - from === key.length && bytes.compare(key, 0, key.length, from, to) === 0;

export function readPlainJsonl(bytes: Buffer, maxCouponAmount: number, out: PlainLine): boolean {
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== OPEN) return false;
  let seenUid = false;
  let seenAmount = false;
  for (let member = 0; member < 2; member++) {
    i = skipSpace(bytes, i + 1);
    if (bytes[i] !== QUOTE) return false;
    const keyEnd = bytes.indexOf(QUOTE, i + 1);
    if (keyEnd === -1) return false;
    const isUid = keyIs(bytes, i + 1, keyEnd, UID);
    const isAmount = !isUid && keyIs(bytes, i + 1, keyEnd, AMOUNT);
    if ((!isUid && !isAmount) || (isUid && seenUid) || (isAmount && seenAmount)) return false;
    i = skipSpace(bytes, keyEnd + 1);
    if (bytes[i] !== COLON) return false;
    i = skipSpace(bytes, i + 1);
    if (isUid) {
      seenUid = true;
      if (bytes[i] === QUOTE) {
        const end = bytes.indexOf(QUOTE, i + 1);
        if (end === -1 || !canonicalDigits(bytes, i + 1, end, LONG_MAX)) return false;
        out.uidStart = i + 1;
        out.uidEnd = end;
        i = end + 1;
      } else {
        const end = numberEnd(bytes, i);
        if (!canonicalDigits(bytes, i, end, SAFE_MAX)) return false;
        out.uidStart = i;
        out.uidEnd = end;
        i = end;
      }
    } else {
      seenAmount = true;
      const end = numberEnd(bytes, i);
      if (!readAmount(bytes, i, end, maxCouponAmount, out)) return false;
      i = end;
    }
    i = skipSpace(bytes, i);
    if (bytes[i] !== (member === 0 ? COMMA : CLOSE)) return false;
  }
  return skipSpace(bytes, i + 1) === bytes.length;
}
