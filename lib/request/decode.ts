import { AppError, invalidRequest } from '../errors.js';
import type { Operation, OperationRef } from '../operation.js';
import { TEXT_PATTERN } from '../schema/definitions.js';
import { validateEnvelope, validateFlat, validateRecipient } from '../schema/validators.generated.js';
import { FieldErrors, invalidRequestOf } from './field-errors.js';
import { extract, formOf, isObject, type RawOperation } from './forms.js';
import { pointer } from './pointer.js';
import { REQUEST_ID, type RequestIdRule } from './request-id.js';
import { buildOperation, type RequestLimits } from './rules.js';
import { collectSchemaErrors } from './schema-errors.js';
import { boundedView, ENVELOPE_KEYS, FLAT_KEYS, PARAM_KEYS, RECIPIENT_KEYS } from './bounded-view.js';
import { unreadableNumbers } from './unreadable-numbers.js';

export const MAX_BATCH = 100;

/** One operation of a request: valid and ready to execute, or refused with every problem and answered in place. */
export type DecodedItem = { operation: Operation } | { ref: OperationRef; error: AppError };

export interface DecodedRequest {
  batch: boolean;
  items: DecodedItem[];
}

const TEXT = new RegExp(TEXT_PATTERN, 'u');

/** What a refusal can name the element by: only values that are themselves valid are echoed. */
function refOf(raw: RawOperation): OperationRef {
  const requestId = raw.fields.requestId.value;
  const fromApp = raw.fields.fromApp.value;
  const form = raw.form;
  return {
    form,
    ...(typeof requestId === 'string' && REQUEST_ID.test(requestId) ? { requestId } : {}),
    ...(typeof fromApp === 'string' && TEXT.test(fromApp) ? { fromApp } : {}),
  };
}

/**
 * The schema's verdict on one request, with work and memory bounded by what a valid request can hold: objects
 * are checked with their known properties and at most a listing's worth of unknown ones (the rest only counted),
 * and the recipients one entry at a time, none of them when the list is longer than MAX_RECIPIENTS.
 */
function checkSchema(value: unknown, raw: RawOperation, base: string, limits: RequestLimits, errors: FieldErrors) {
  const inBatch = base !== '';
  if (!isObject(value)) {
    collectSchemaErrors(raw.form === 'flat' ? validateFlat : validateEnvelope, value, base, inBatch, errors);
    return;
  }
  let view = boundedView(value, raw.form === 'flat' ? FLAT_KEYS : ENVELOPE_KEYS, errors);
  const param = value['param'];
  if (raw.form === 'envelope' && isObject(param)) view = { ...view, param: boundedView(param, PARAM_KEYS, errors) };
  collectSchemaErrors(raw.form === 'flat' ? validateFlat : validateEnvelope, view, base, inBatch, errors);
  const list = raw.fields.recipients.value;
  if (!Array.isArray(list) || list.length > limits.maxRecipients) return;
  const at = raw.fields.recipients.path;
  for (let i = 0; i < list.length; i++) {
    const entry: unknown = list[i];
    const data = isObject(entry) ? boundedView(entry, RECIPIENT_KEYS, errors) : entry;
    collectSchemaErrors(validateRecipient, data, pointer(at, i), inBatch, errors);
  }
}

function decodeOne(
  value: unknown,
  base: string,
  limits: RequestLimits,
  rule: RequestIdRule,
  index?: number,
): DecodedItem {
  const form = index === undefined ? formOf(value) : 'envelope';
  const raw = extract(value, form, base);
  const ref = refOf(raw);
  const errors = new FieldErrors(base);
  const list = raw.fields.recipients.value;
  const overLong = Array.isArray(list) && list.length > limits.maxRecipients ? list : undefined;
  unreadableNumbers(value, base, errors, overLong);
  checkSchema(value, raw, base, limits, errors);
  if (!isObject(value)) return { ref, error: invalidRequestOf(errors, ref.requestId) };
  const built = buildOperation(raw, limits, rule, errors, index);
  // Only an id that is itself valid is ever repeated back (a 10,000-character one is not).
  const candidate = built.operation?.requestId ?? ref.requestId;
  const requestId = candidate !== undefined && REQUEST_ID.test(candidate) ? candidate : undefined;
  if (errors.count > 0) return { ref, error: invalidRequestOf(errors, requestId) };
  if (built.forbidden !== undefined) {
    return {
      ref,
      error: new AppError(
        403,
        'Forbidden.SellerMismatch',
        built.forbidden,
        requestId === undefined ? {} : { requestId },
      ),
    };
  }
  return built.operation ? { operation: built.operation } : { ref, error: invalidRequestOf(errors, requestId) };
}

function refuseRepeats(items: DecodedItem[]): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    if (!('operation' in item)) return;
    const op = item.operation;
    const key = `${op.sellerId.digits}\u0000${op.fromApp}\u0000${op.requestId}`;
    const seen = first.get(key);
    if (seen === undefined) {
      first.set(key, i);
      return;
    }
    const path = pointer('', i, 'requestId');
    const message = `repeats the operation of /${seen} (same seller, fromApp and requestId)`;
    items[i] = {
      ref: { form: op.form, requestId: op.requestId, fromApp: op.fromApp },
      error: invalidRequest([{ path, message }], op.requestId),
    };
  });
}

/**
 * A parsed send request (flat, envelope or batch) as operations. A single request that is invalid throws its
 * one AppError (400 with every problem, or 403 for another seller); a batch is judged element by element, so an
 * invalid element is answered in its place and never stops the valid ones.
 */
export function decodeSendRequest(value: unknown, limits: RequestLimits, rule: RequestIdRule): DecodedRequest {
  if (!Array.isArray(value)) {
    const item = decodeOne(value, '', limits, rule);
    if ('error' in item) throw item.error;
    return { batch: false, items: [item] };
  }
  if (value.length === 0 || value.length > MAX_BATCH) {
    const message =
      value.length === 0 ? 'a batch must hold at least one request' : `a batch must hold at most ${MAX_BATCH} requests`;
    throw invalidRequest([{ path: '', message }]);
  }
  const items = value.map((element, i) => decodeOne(element, pointer('', i), limits, rule, i));
  refuseRepeats(items);
  return { batch: true, items };
}
