import type { FieldError } from '../errors.js';
import { fractionDigits } from '../json.js';
import type { ExactId, Operation, Recipient } from '../operation.js';
import { quote } from '../redact.js';
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

function idIn(field: Field, errors: FieldError[]): ExactId | undefined {
  const id = exactId(field.value);
  if (id && exceedsLong(id.digits)) {
    errors.push({ path: field.path, message: `must be at most ${LONG_MAX} (the upstream's 64-bit Long)` });
    return undefined;
  }
  return id;
}

/** An amount that passed the decimal rule, in plain decimal form (`8.88`, `100`), never in exponent form. */
export const plainDecimal = (amount: number): string =>
  Number.isInteger(amount) && amount < 1e21 ? String(amount) : amount.toFixed(2).replace(/\.?0+$/, '');

export interface BuiltOperation {
  operation?: Operation;
  errors: FieldError[];
  /** Set when the request names another seller than the configured one (403, not 400). */
  forbidden?: string;
}

/**
 * The business rules the schema cannot state: configured defaults and limits, the Long range of ids, one
 * entry per uid, the RequestId each trigger implies. Every problem is collected; nothing partial is returned.
 */
export function buildOperation(
  raw: RawOperation,
  limits: RequestLimits,
  rule: RequestIdRule,
  index?: number,
): BuiltOperation {
  const errors: FieldError[] = [];
  const f = raw.fields;
  const requestId = requestIdFor(typeof f.requestId.value === 'string' ? f.requestId.value : undefined, rule, index);
  if (requestId === undefined && f.requestId.value === undefined)
    errors.push({ path: f.requestId.path, message: 'is required' });

  let forbidden: string | undefined;
  let sellerId = idIn(f.sellerId, errors);
  if (f.sellerId.value === undefined) {
    if (limits.sellerId === undefined) {
      errors.push({ path: f.sellerId.path, message: 'is required (SELLER_ID is not configured)' });
    } else sellerId = { digits: limits.sellerId, kind: 'number' };
  } else if (sellerId && limits.sellerId !== undefined && sellerId.digits !== limits.sellerId) {
    forbidden = `${f.sellerId.path.split('/').at(-1)} ${quote(sellerId.digits)} is not the seller this function serves`;
  }

  let fromApp = typeof f.fromApp.value === 'string' ? f.fromApp.value : undefined;
  if (f.fromApp.value === undefined) {
    if (limits.fromApp === undefined) {
      errors.push({ path: f.fromApp.path, message: 'is required (FROM_APP is not configured)' });
    } else fromApp = limits.fromApp;
  }

  const list = Array.isArray(f.recipients.value) ? f.recipients.value : [];
  if (list.length > limits.maxRecipients) {
    errors.push({
      path: f.recipients.path,
      message: `must have at most ${limits.maxRecipients} entries (MAX_RECIPIENTS); it has ${list.length}`,
    });
  }
  const recipientsPath = f.recipients.path;
  const seen = new Map<string, number>();
  const recipients: Recipient[] = [];
  list.forEach((entry, i) => {
    if (!isObject(entry)) return;
    const uid = idIn(new LazyField(entry['uid'], recipientsPath, [i, 'uid']), errors);
    const amount = typeof entry['amount'] === 'number' && entry['amount'] > 0 ? entry['amount'] : undefined;
    // The parser already refused such text; this also holds for values that did not come through it.
    if (amount !== undefined && fractionDigits(String(amount)) > 2) {
      errors.push({ path: pointer(f.recipients.path, i, 'amount'), message: 'must have at most 2 decimal places' });
    } else if (amount !== undefined && amount > limits.maxCouponAmount) {
      errors.push({
        path: pointer(f.recipients.path, i, 'amount'),
        message: `must be at most ${limits.maxCouponAmount} (MAX_COUPON_AMOUNT)`,
      });
    }
    if (uid === undefined || amount === undefined) return;
    const first = seen.get(uid.digits);
    if (first !== undefined) {
      errors.push({
        path: pointer(f.recipients.path, i, 'uid'),
        message: `duplicates the uid at ${pointer(f.recipients.path, first, 'uid')}`,
      });
    } else seen.set(uid.digits, i);
    recipients.push({ uid, amount, amountText: plainDecimal(amount) });
  });

  const templateId = idIn(f.templateId, errors);
  const bid = f.bid.value === undefined ? undefined : idIn(f.bid, errors);
  const built: BuiltOperation = { errors, ...(forbidden === undefined ? {} : { forbidden }) };
  if (errors.length > 0 || !sellerId || !fromApp || !templateId || requestId === undefined) return built;
  const operation: Operation = { sellerId, templateId, requestId, fromApp, recipients, form: raw.form };
  if (bid) operation.bid = bid;
  if (typeof f.operator.value === 'string') operation.operator = f.operator.value;
  return { ...built, operation };
}
