import { fractionDigits } from '../json.js';
import type { ExactId, Operation, Recipient } from '../operation.js';
import { quote } from '../redact.js';
import type { FieldErrors } from './field-errors.js';
import { isObject, LazyField, type Field, type RawOperation } from './forms.js';
import { pointer } from './pointer.js';
import { requestIdFor, type RequestIdRule } from './request-id.js';

export interface RequestLimits {
  sellerId?: string;
  fromApp?: string;
  maxCouponAmount: number;
  maxRecipients: number;
}

/** The upstream's ids are 64-bit Longs: 19 digits at most, and no more than this. */
const LONG_MAX = '9223372036854775807';

const exceedsLong = (digits: string) => digits.length === LONG_MAX.length && digits > LONG_MAX;

/** Ids passed the schema (canonical digits, or a safe positive integer); a JSON number is written as its digits. */
function exactId(value: unknown): ExactId | undefined {
  if (typeof value === 'number') return { digits: String(value), kind: 'number' };
  if (typeof value === 'string') return { digits: value, kind: 'string' };
  return undefined;
}

function idIn(field: Field, errors: FieldErrors): ExactId | undefined {
  const id = exactId(field.value);
  if (id && exceedsLong(id.digits)) {
    errors.add(field.path, `must be at most ${LONG_MAX} (the upstream's 64-bit Long)`);
    return undefined;
  }
  return id;
}

/** An amount that passed the decimal rule, in plain decimal form (`8.88`, `100`), never in exponent form. */
export const plainDecimal = (amount: number): string =>
  Number.isInteger(amount) && amount < 1e21 ? String(amount) : amount.toFixed(2).replace(/\.?0+$/, '');

export interface BuiltOperation {
  operation?: Operation;
  /** Set when the request names another seller than the configured one (403, not 400). */
  forbidden?: string;
}

/**
 * The business rules the schema cannot state: configured defaults and limits, the Long range of ids, one
 * entry per uid, the RequestId each trigger implies. Every problem goes to `errors`; nothing partial is returned.
 * A list longer than MAX_RECIPIENTS is refused for that alone: its entries are not looked at.
 */
export function buildOperation(
  raw: RawOperation,
  limits: RequestLimits,
  rule: RequestIdRule,
  errors: FieldErrors,
  index?: number,
): BuiltOperation {
  const problemsBefore = errors.count;
  const f = raw.fields;
  const requestId = requestIdFor(typeof f.requestId.value === 'string' ? f.requestId.value : undefined, rule, index);
  if (requestId === undefined && f.requestId.value === undefined) errors.add(f.requestId.path, 'is required');

  let forbidden: string | undefined;
  let sellerId = idIn(f.sellerId, errors);
  if (f.sellerId.value === undefined) {
    if (limits.sellerId === undefined) {
      errors.add(f.sellerId.path, 'is required (SELLER_ID is not configured)');
    } else sellerId = { digits: limits.sellerId, kind: 'number' };
  } else if (sellerId && limits.sellerId !== undefined && sellerId.digits !== limits.sellerId) {
    forbidden = `${f.sellerId.path.split('/').at(-1)} ${quote(sellerId.digits)} is not the seller this function serves`;
  }

  let fromApp = typeof f.fromApp.value === 'string' ? f.fromApp.value : undefined;
  if (f.fromApp.value === undefined) {
    if (limits.fromApp === undefined) {
      errors.add(f.fromApp.path, 'is required (FROM_APP is not configured)');
    } else fromApp = limits.fromApp;
  }

  const list = Array.isArray(f.recipients.value) ? f.recipients.value : [];
  const recipients = list.length > limits.maxRecipients ? [] : recipientsOf(list, f.recipients.path, limits, errors);
  if (list.length > limits.maxRecipients) {
    errors.add(
      f.recipients.path,
      `must have at most ${limits.maxRecipients} entries (MAX_RECIPIENTS); it has ${list.length}, none of them checked`,
    );
  }

  const templateId = idIn(f.templateId, errors);
  const bid = f.bid.value === undefined ? undefined : idIn(f.bid, errors);
  const built: BuiltOperation = forbidden === undefined ? {} : { forbidden };
  if (errors.count > problemsBefore || !sellerId || !fromApp || !templateId || requestId === undefined) return built;
  const operation: Operation = { sellerId, templateId, requestId, fromApp, recipients, form: raw.form };
  if (bid) operation.bid = bid;
  if (typeof f.operator.value === 'string') operation.operator = f.operator.value;
  return { ...built, operation };
}

/** The entries of a list within MAX_RECIPIENTS: amounts within the limits, one entry per uid. */
function recipientsOf(list: unknown[], path: string, limits: RequestLimits, errors: FieldErrors): Recipient[] {
  const seen = new Map<string, number>();
  const recipients: Recipient[] = [];
  list.forEach((entry, i) => {
    if (!isObject(entry)) return;
    const uid = idIn(new LazyField(entry['uid'], path, [i, 'uid']), errors);
    const amount = typeof entry['amount'] === 'number' && entry['amount'] > 0 ? entry['amount'] : undefined;
    // The parser already refused such text; this also holds for values that did not come through it.
    if (amount !== undefined && fractionDigits(String(amount)) > 2) {
      errors.add(pointer(path, i, 'amount'), 'must have at most 2 decimal places');
    } else if (amount !== undefined && amount > limits.maxCouponAmount) {
      errors.add(pointer(path, i, 'amount'), `must be at most ${limits.maxCouponAmount} (MAX_COUPON_AMOUNT)`);
    }
    if (uid === undefined || amount === undefined) return;
    const first = seen.get(uid.digits);
    if (first !== undefined) {
      errors.add(pointer(path, i, 'uid'), `duplicates the uid at ${pointer(path, first, 'uid')}`);
    } else seen.set(uid.digits, i);
    recipients.push({ uid, amount, amountText: plainDecimal(amount) });
  });
  return recipients;
}
