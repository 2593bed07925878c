import { createHash } from 'node:crypto';
import { InexactNumber } from './json.js';
import { messageFor } from './schema/messages.js';
import {
  validateEnvelope,
  validateFlat,
  type SchemaError,
  type StandaloneValidator,
} from './schema/validators.generated.js';
import { AppError, invalidRequest, type FieldError } from './errors.js';
import { canonicalDigits, type AnswerForm, type ExactId, type Operation, type Recipient } from './operation.js';

export interface RequestLimits {
  sellerId?: string;
  fromApp?: string;
  maxCouponAmount: number;
  maxRecipients: number;
}

/** Where an operation's RequestId comes from when the request carries none (CONTRACT §3). */
export type RequestIdRule =
  | { kind: 'required' }
  | { kind: 'default'; value: string }
  | { kind: 'timer'; triggerName: string; triggerTime: string };

export interface DecodedRequest {
  batch: boolean;
  operations: Operation[];
}

const REQUEST_ID_CHARS = /[^A-Za-z0-9._:-]/g;
export const MAX_BATCH = 100;

/** Characters outside the allowed set become `_`; one longer than 64 keeps 55 characters, `.` and 8 hex of its SHA-256. */
export function deriveRequestId(raw: string): string {
  const cleaned = raw.replace(REQUEST_ID_CHARS, '_');
  if (cleaned.length <= 64) return cleaned;
  return `${cleaned.slice(0, 55)}.${createHash('sha256').update(cleaned).digest('hex').slice(0, 8)}`;
}

function pointer(segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function collectInexact(value: unknown, path: string, out: FieldError[]): void {
  if (value instanceof InexactNumber) {
    out.push({
      path,
      message: `the number ${value.text} cannot be read exactly (integers above 2^53-1 lose digits); send ids as a string of digits`,
    });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => collectInexact(v, `${path}/${i}`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectInexact(v, `${path}${pointer([k])}`, out);
  }
}

function schemaErrors(
  validator: StandaloneValidator,
  value: unknown,
  prefix: string,
  skip: ReadonlySet<string>,
): FieldError[] {
  if (validator(value)) return [];
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of validator.errors ?? []) {
    const fe = toFieldError(e, prefix);
    if (skip.has(fe.path)) continue;
    const id = `${fe.path}\u0000${fe.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(fe);
    }
  }
  return out;
}

function toFieldError(e: SchemaError, prefix: string): FieldError {
  if (e.keyword === 'additionalProperties') {
    const name = String(e.params['additionalProperty']);
    return { path: `${prefix}${e.instancePath}${pointer([name])}`, message: `unknown property "${name}"` };
  }
  if (e.keyword === 'required') {
    const name = String(e.params['missingProperty']);
    return { path: `${prefix}${e.instancePath}${pointer([name])}`, message: 'is required' };
  }
  if (e.keyword === 'minItems' && e.params['limit'] === 1) {
    return { path: `${prefix}${e.instancePath}`, message: 'must not be empty' };
  }
  const path = `${prefix}${e.instancePath}`;
  return { path, message: messageFor(path, prefix !== '') ?? e.message ?? 'is invalid' };
}

function exactId(value: unknown): ExactId | undefined {
  if (typeof value === 'number') return { digits: String(value), kind: 'number' };
  if (typeof value === 'string') return { digits: value, kind: 'string' };
  return undefined;
}

function hasAtMostTwoDecimals(amount: number): boolean {
  const cents = amount * 100;
  return Math.abs(cents - Math.round(cents)) < 1e-7 * Math.max(1, Math.abs(cents));
}

interface RawOperation {
  form: AnswerForm;
  path: string;
  sellerId: unknown;
  templateId: unknown;
  requestId: unknown;
  fromApp: unknown;
  bid: unknown;
  operator: unknown;
  recipients: Array<Record<string, unknown>>;
  names: { sellerId: string; requestId: string; fromApp: string; list: string };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isEnvelopeShape = (v: unknown): v is Record<string, unknown> & { param: Record<string, unknown> } =>
  isObject(v) && isObject(v['param']);
const listOf = (v: unknown): RawOperation['recipients'] => (Array.isArray(v) ? v.filter(isObject) : []);

function rawFlat(v: Record<string, unknown>): RawOperation {
  return {
    form: 'flat',
    path: '',
    sellerId: v['SellerId'],
    templateId: v['TemplateId'],
    requestId: v['RequestId'],
    fromApp: v['FromApp'],
    bid: v['Bid'],
    operator: v['Operator'],
    recipients: listOf(v['userAmountModelList']),
    names: { sellerId: 'SellerId', requestId: 'RequestId', fromApp: 'FromApp', list: 'userAmountModelList' },
  };
}

function rawEnvelope(v: Record<string, unknown>, path: string): RawOperation {
  const p = v['param'] as Record<string, unknown>;
  return {
    form: 'envelope',
    path,
    sellerId: p['sellerId'],
    templateId: p['templateId'],
    requestId: v['requestId'],
    fromApp: v['fromApp'],
    bid: p['bid'],
    operator: p['operator'],
    recipients: listOf(p['userAmountModelList']),
    names: {
      sellerId: 'param/sellerId',
      requestId: 'requestId',
      fromApp: 'fromApp',
      list: 'param/userAmountModelList',
    },
  };
}

function requestIdFor(raw: RawOperation, rule: RequestIdRule, index: number | undefined, errors: FieldError[]): string {
  const own = typeof raw.requestId === 'string' ? raw.requestId : undefined;
  const suffix = index === undefined ? '' : `:${index + 1}`;
  switch (rule.kind) {
    case 'required':
      if (own === undefined) errors.push({ path: `${raw.path}/${raw.names.requestId}`, message: 'is required' });
      return own ?? '';
    case 'default':
      return own ?? deriveRequestId(`${rule.value}${suffix}`);
    case 'timer':
      return deriveRequestId(`${own ?? `${rule.triggerName}${suffix}`}:${rule.triggerTime}`);
  }
}

interface Built {
  operation?: Operation;
  forbidden?: string;
}

function buildOperation(
  raw: RawOperation,
  limits: RequestLimits,
  rule: RequestIdRule,
  index: number | undefined,
  errors: FieldError[],
): Built {
  const requestId = requestIdFor(raw, rule, index, errors);
  let sellerId = exactId(raw.sellerId);
  let forbidden: string | undefined;
  if (sellerId === undefined) {
    if (limits.sellerId === undefined)
      errors.push({ path: `${raw.path}/${raw.names.sellerId}`, message: 'is required (SELLER_ID is not configured)' });
    else sellerId = { digits: limits.sellerId, kind: 'number' };
  } else if (
    limits.sellerId !== undefined &&
    canonicalDigits(sellerId) !== canonicalDigits({ digits: limits.sellerId, kind: 'string' })
  ) {
    forbidden = `${raw.names.sellerId.replace('param/', '')} ${sellerId.digits} is not the seller this function serves`;
  }
  let fromApp = typeof raw.fromApp === 'string' ? raw.fromApp : undefined;
  if (fromApp === undefined) {
    if (limits.fromApp === undefined)
      errors.push({ path: `${raw.path}/${raw.names.fromApp}`, message: 'is required (FROM_APP is not configured)' });
    else fromApp = limits.fromApp;
  }
  const listPath = `${raw.path}/${raw.names.list}`;
  if (raw.recipients.length > limits.maxRecipients) {
    errors.push({
      path: listPath,
      message: `must have at most ${limits.maxRecipients} entries (MAX_RECIPIENTS); it has ${raw.recipients.length}`,
    });
  }
  const seen = new Map<string, number>();
  const recipients: Recipient[] = [];
  raw.recipients.forEach((r, i) => {
    const uid = exactId(r['uid']);
    const rawAmount = r['amount'];
    const amount = typeof rawAmount === 'number' && rawAmount > 0 ? rawAmount : undefined;
    if (amount !== undefined && !hasAtMostTwoDecimals(amount))
      errors.push({ path: `${listPath}/${i}/amount`, message: 'must have at most 2 decimals' });
    if (amount !== undefined && amount > limits.maxCouponAmount) {
      errors.push({
        path: `${listPath}/${i}/amount`,
        message: `must be at most ${limits.maxCouponAmount} (MAX_COUPON_AMOUNT)`,
      });
    }
    if (uid === undefined || amount === undefined) return;
    const key = canonicalDigits(uid);
    const first = seen.get(key);
    if (first !== undefined)
      errors.push({ path: `${listPath}/${i}/uid`, message: `duplicates the uid at ${listPath}/${first}/uid` });
    else seen.set(key, i);
    recipients.push({ uid, amount });
  });
  const templateId = exactId(raw.templateId);
  if (sellerId === undefined || fromApp === undefined || templateId === undefined)
    return forbidden === undefined ? {} : { forbidden };
  const operation: Operation = { sellerId, templateId, requestId, fromApp, recipients, form: raw.form };
  const bid = exactId(raw.bid);
  if (bid !== undefined) operation.bid = bid;
  if (typeof raw.operator === 'string') operation.operator = raw.operator;
  return forbidden === undefined ? { operation } : { operation, forbidden };
}

function guessRequestId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const id = v['RequestId'] ?? v['requestId'];
  return typeof id === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(id) ? id : undefined;
}

/**
 * Turns a parsed send request (flat, envelope or batch) into operations, or throws one AppError listing every
 * problem: 400 with all field errors, or 403 when the seller is not ours. Nothing partial is ever returned.
 */
export function decodeSendRequest(value: unknown, limits: RequestLimits, rule: RequestIdRule): DecodedRequest {
  const errors: FieldError[] = [];
  collectInexact(value, '', errors);
  const inexact = new Set(errors.map((e) => e.path));
  const raws: RawOperation[] = [];
  const batch = Array.isArray(value);
  if (batch) {
    if (value.length === 0) errors.push({ path: '', message: 'a batch must hold at least one request' });
    if (value.length > MAX_BATCH) errors.push({ path: '', message: `a batch must hold at most ${MAX_BATCH} requests` });
    value.slice(0, MAX_BATCH).forEach((element, i) => {
      const found = schemaErrors(validateEnvelope, element, `/${i}`, inexact);
      errors.push(...found);
      if (isEnvelopeShape(element)) raws.push(rawEnvelope(element, `/${i}`));
    });
  } else {
    const isEnvelope = value !== null && typeof value === 'object' && 'param' in value;
    const found = schemaErrors(isEnvelope ? validateEnvelope : validateFlat, value, '', inexact);
    errors.push(...found);
    if (isEnvelope && isEnvelopeShape(value)) raws.push(rawEnvelope(value, ''));
    else if (!isEnvelope && isObject(value)) raws.push(rawFlat(value));
  }
  const operations: Operation[] = [];
  const forbidden: string[] = [];
  raws.forEach((raw, i) => {
    const built = buildOperation(raw, limits, rule, batch ? i : undefined, errors);
    if (built.forbidden !== undefined) forbidden.push(built.forbidden);
    if (built.operation) operations.push(built.operation);
  });
  if (batch && errors.length === 0) {
    const ids = new Map<string, number>();
    operations.forEach((op, i) => {
      const key = `${canonicalDigits(op.sellerId)}\u0000${op.fromApp}\u0000${op.requestId}`;
      const first = ids.get(key);
      if (first !== undefined)
        errors.push({
          path: `/${i}/requestId`,
          message: `repeats the operation of /${first} (same seller, fromApp and requestId)`,
        });
      else ids.set(key, i);
    });
  }
  const requestId = operations[0]?.requestId ?? guessRequestId(value);
  if (errors.length > 0) throw invalidRequest(errors, requestId);
  if (forbidden.length > 0) {
    throw new AppError(
      403,
      'Forbidden.SellerMismatch',
      forbidden.join('; '),
      requestId === undefined ? {} : { requestId },
    );
  }
  return { batch, operations };
}
