import { AppError, type FieldError } from '../errors.js';
import { decodeUtf8, fractionDigits, isJsonNumber, jsonText, JsonSyntaxError, parseJsonExact } from '../json.js';
import type { Recipient } from '../operation.js';
import { decodeSendRequest } from '../request/decode.js';
import { isObject } from '../request/forms.js';
import { lastSegment } from '../request/pointer.js';
import { plainDecimal } from '../request/rules.js';
import { emptyPlainLine, readPlainCsv, readPlainJsonl, type PlainLine } from './plain-lines.js';
import { maskDigitRuns, quote } from '../redact.js';

export type ListFormat = 'csv' | 'jsonl';

/** One line of a list judged: a recipient, or the problem that keeps it from being sent. */
export type LineVerdict = { recipient: Recipient } | { problem: string };

const REQUIRED = { kind: 'required' } as const;
const RECIPIENTS = '/userAmountModelList/0';
const CANONICAL_DIGITS = /^[1-9][0-9]{0,18}$/;
const FIELD_SPACE = /^[ \t]+|[ \t]+$/g;

/** A value as an answer may repeat it: at most 64 characters, and every run of digits long enough to be a uid masked. */
const shown = (text: string): string => `"${maskDigitRuns(quote(text))}"`;

function valueText(v: unknown): string {
  const text = jsonText(v);
  if (text !== undefined) return text;
  return JSON.stringify(v) ?? String(v);
}

/** Ids of at most 18 digits are always within the upstream's Long, so the Long bound needs no check here. */
const SHORT_CANONICAL_DIGITS = /^[1-9][0-9]{0,17}$/;

/**
 * The common case without building a send request: a uid that is plainly valid (a canonical digit string of at
 * most 18 digits, or a safe positive integer) and an amount that is a number > 0, at most MAX_COUPON_AMOUNT, with
 * at most 2 decimals. It accepts only what judgeAsSend accepts, with the same recipient (a property test compares
 * both); anything else goes to judgeAsSend, which also words the problem. A million lines make a lot less garbage.
 */
function plainRecipient(uid: unknown, amount: unknown, maxCouponAmount: number): Recipient | undefined {
  let digits: string;
  let kind: 'number' | 'string';
  if (typeof uid === 'string' && SHORT_CANONICAL_DIGITS.test(uid)) {
    digits = uid;
    kind = 'string';
  } else if (typeof uid === 'number' && Number.isSafeInteger(uid) && uid >= 1) {
    digits = String(uid);
    kind = 'number';
  } else return undefined;
  if (typeof amount !== 'number' || !(amount > 0) || amount > maxCouponAmount) return undefined;
  if (fractionDigits(String(amount)) > 2) return undefined;
  return { uid: { digits, kind }, amount, amountText: plainDecimal(amount) };
}

/**
 * The recipient of one line by the very rules of a send: the line's entry is judged as the only entry of a
 * send request, so ids, amounts, exactness and limits can never drift apart between a send and a campaign.
 */
export function judgeAsSend(entry: unknown, maxCouponAmount: number): LineVerdict {
  const request = { SellerId: '1', TemplateId: '1', RequestId: 'line', FromApp: 'line', userAmountModelList: [entry] };
  try {
    const decoded = decodeSendRequest(request, { maxCouponAmount, maxRecipients: 1 }, REQUIRED);
    const [item] = decoded.items;
    const recipient = item && 'operation' in item ? item.operation.recipients[0] : undefined;
    if (recipient) return { recipient };
    return { problem: 'is not a valid recipient' };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { problem: describe(err.errors ?? [], entry) };
  }
}

function describe(errors: readonly FieldError[], entry: unknown): string {
  const parts = errors.map((e) => {
    if (e.path === RECIPIENTS) return 'must be an object {"uid", "amount"}';
    if (e.message.startsWith('unknown property')) return e.message;
    const field = lastSegment(e.path);
    const value = isObject(entry) && field in entry ? ` ${shown(valueText(entry[field]))}` : '';
    return `${field}${value} ${e.message}`;
  });
  return parts.length > 0 ? parts.join('; ') : 'is not a valid recipient';
}

/** A CSV field: spaces and tabs around it are ignored, and it may be wrapped in double quotes holding no quote. */
function csvField(raw: string): string | undefined {
  const field = raw.replace(FIELD_SPACE, '');
  if (!field.includes('"')) return field;
  if (field.length >= 2 && field.startsWith('"') && field.endsWith('"') && !field.slice(1, -1).includes('"'))
    return field.slice(1, -1);
  return undefined;
}

/** The CSV header, compared without case and without spaces around the names: `uid,amount`, `UID, Amount`. */
export function isCsvHeader(text: string): boolean {
  const fields = text.split(',').map(csvField);
  return fields.length === 2 && fields[0]?.toLowerCase() === 'uid' && fields[1]?.toLowerCase() === 'amount';
}

const plain: PlainLine = emptyPlainLine();

/** A plain line (see plain-lines.ts) as its recipient, without the general path's parsing. */
function plainRecipientOf(bytes: Buffer, format: ListFormat, maxCouponAmount: number): Recipient | undefined {
  const read = format === 'csv' ? readPlainCsv : readPlainJsonl;
  if (!read(bytes, maxCouponAmount, plain)) return undefined;
  const { amount } = plain;
  const quoted = format === 'csv' || bytes[plain.uidStart - 1] === 0x22;
  return {
    uid: { digits: bytes.toString('latin1', plain.uidStart, plain.uidEnd), kind: quoted ? 'string' : 'number' },
    amount,
    amountText: plainDecimal(amount),
  };
}

/** A number as JSON reads it (`00.5` is not one), exact or kept as its text; undefined when not a JSON number. */
function jsonNumber(text: string): unknown {
  try {
    return parseJsonExact(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return undefined;
    throw err;
  }
}

function judgeCsv(text: string, maxCouponAmount: number): LineVerdict {
  const raw = text.split(',');
  if (raw.length !== 2) return { problem: `must be two fields uid,amount; it has ${raw.length}` };
  const [uidRaw = '', amountRaw = ''] = raw;
  const uid = csvField(uidRaw);
  const amount = csvField(amountRaw);
  if (uid === undefined || amount === undefined)
    return { problem: 'a quoted field must be wholly quoted and hold no double quote' };
  const problems: string[] = [];
  if (!CANONICAL_DIGITS.test(uid))
    problems.push(`uid ${shown(uid)} must be digits without leading zeros, from 1 to 9223372036854775807`);
  const value = isJsonNumber(amount) ? jsonNumber(amount) : undefined;
  if (value === undefined || (typeof value === 'number' && !(value > 0)))
    problems.push(`amount ${shown(amount)} must be a decimal number greater than 0`);
  if (problems.length > 0) return { problem: problems.join('; ') };
  const recipient = plainRecipient(uid, value, maxCouponAmount);
  return recipient ? { recipient } : judgeAsSend({ uid, amount: value }, maxCouponAmount);
}

function judgeJsonl(text: string, maxCouponAmount: number): LineVerdict {
  let entry: unknown;
  try {
    entry = parseJsonExact(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return { problem: `is not valid JSON (${maskDigitRuns(quote(err.message))})` };
  }
  if (!isObject(entry)) return { problem: 'must be a JSON object {"uid", "amount"}' };
  const keys = Object.keys(entry);
  const recipient =
    keys.length === 2 && 'uid' in entry && 'amount' in entry
      ? plainRecipient(entry['uid'], entry['amount'], maxCouponAmount)
      : undefined;
  return recipient ? { recipient } : judgeAsSend(entry, maxCouponAmount);
}

/** One line's content (its end of line removed) judged as a recipient of a list in `format`. */
export function judgeLine(bytes: Buffer, format: ListFormat, maxCouponAmount: number): LineVerdict {
  const recipient = plainRecipientOf(bytes, format, maxCouponAmount);
  if (recipient) return { recipient };
  const text = decodeUtf8(bytes);
  if (text === undefined) return { problem: 'is not valid UTF-8' };
  return format === 'csv' ? judgeCsv(text, maxCouponAmount) : judgeJsonl(text, maxCouponAmount);
}
