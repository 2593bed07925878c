import type { AppError } from './errors.js';
import { isJsonNumber, rawNumber } from './json.js';
import type { CouponId, ExactId, Operation, OperationRef, RecipientResult } from './operation.js';
import type { DeliveryResult, OperationResult } from './pipeline.js';

/** An id written back with the JSON type the caller used; numbers keep every digit. */
const idValue = (id: ExactId): unknown => (id.kind === 'number' ? rawNumber(id.digits) : id.digits);

/** A coupon id in the JSON type the upstream used; text that is no JSON number is written as a string. */
const couponValue = (id: CouponId): unknown =>
  id.kind === 'number' && isJsonNumber(id.text) ? rawNumber(id.text) : id.text;

function recipientEntries(op: Operation, results: readonly RecipientResult[]): Array<Record<string, unknown>> {
  return op.recipients.map((r, i) => {
    const res = results[i] ?? { status: 'UNKNOWN' };
    const entry: Record<string, unknown> = { amount: r.amount, uid: idValue(r.uid) };
    if (res.youhuiId) entry['youhuiId'] = couponValue(res.youhuiId);
    entry['status'] = res.status;
    if (res.code !== undefined) {
      entry['Code'] = res.code;
      entry['Message'] = res.message ?? '';
    }
    if (res.retryable) entry['retryable'] = true;
    return entry;
  });
}

export function errorBody(error: AppError, requestId?: string): Record<string, unknown> {
  const id = requestId ?? error.requestId;
  return {
    ...(id === undefined ? {} : { RequestId: id }),
    Success: false,
    Code: error.code,
    Message: error.message,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

/** A refusal in the shape of the request it answers (an envelope keeps `fromApp` and `requestId`). */
function refusalBody(ref: OperationRef, error: AppError): Record<string, unknown> {
  const body = errorBody(error, ref.requestId);
  if (ref.form === 'flat') return body;
  const { RequestId: _, ...rest } = body;
  return {
    ...(ref.fromApp === undefined ? {} : { fromApp: ref.fromApp }),
    ...(ref.requestId === undefined ? {} : { requestId: ref.requestId }),
    ...rest,
  };
}

/** The answer to one operation in the form it came in; an error status (nothing issued) uses the error shape. */
function resultBody(result: OperationResult, inBatch: boolean): Record<string, unknown> {
  if ('error' in result) return refusalBody(result.ref, result.error);
  const { operation: op, verdict, results } = result.executed;
  const dry = result.executed.dryRun ? { dryRun: true } : {};
  if (verdict.httpStatus !== 200 && !inBatch) {
    return { RequestId: op.requestId, Success: false, Code: verdict.code, Message: verdict.message, ...dry };
  }
  const list = recipientEntries(op, results);
  const summary = { Success: verdict.success, Code: verdict.code, Message: verdict.message, ...dry };
  if (op.form === 'envelope') {
    return { fromApp: op.fromApp, requestId: op.requestId, param: { userAmountModelList: list }, ...summary };
  }
  return { RequestId: op.requestId, ...summary, userAmountModelList: list };
}

/** One delivery's answer: status, JSON body and headers, the same for every trigger. */
export interface Reply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  /** A redelivery can make progress (recipients still owed, store down, another delivery in progress). */
  retryable: boolean;
}

interface Status {
  status: number;
  retryAfter?: number;
  retryable: boolean;
}

function statusOf(result: OperationResult): Status {
  const s = 'error' in result ? result.error : result.executed.verdict;
  const status = 'error' in result ? result.error.status : result.executed.verdict.httpStatus;
  return {
    status,
    retryable: s.retryable,
    ...(s.retryAfterSeconds === undefined ? {} : { retryAfter: s.retryAfterSeconds }),
  };
}

const retryAfterHeader = (seconds: number | undefined): Record<string, string> =>
  seconds === undefined ? {} : { 'Retry-After': String(seconds) };

export function errorReply(e: AppError): Reply {
  return {
    status: e.status,
    body: errorBody(e),
    headers: retryAfterHeader(e.retryAfterSeconds),
    retryable: e.retryable,
  };
}

/**
 * A batch is 200 when at least one element was executed; when every element was refused as invalid it is 400.
 * Either way each element is answered in its place.
 */
function batchStatus(results: readonly OperationResult[]): number {
  const invalidOnly = results.every((r) => 'error' in r && r.error.status === 400);
  return invalidOnly ? 400 : 200;
}

export function renderDelivery(result: DeliveryResult): Reply {
  if ('error' in result) return errorReply(result.error);
  const replayed = result.results.length > 0 && result.results.every((r) => 'executed' in r && r.executed.replayed);
  const statuses = result.results.map(statusOf);
  const retryable = statuses.some((s) => s.retryable);
  const headers: Record<string, string> = replayed ? { 'Idempotent-Replayed': 'true' } : {};
  if (result.batch) {
    return {
      status: batchStatus(result.results),
      body: result.results.map((r) => resultBody(r, true)),
      headers,
      retryable,
    };
  }
  const [only] = result.results;
  const [s] = statuses;
  if (!only || !s) return { status: 200, body: [], headers, retryable };
  if (s.status !== 200) Object.assign(headers, retryAfterHeader(s.retryAfter));
  return { status: s.status, body: resultBody(only, false), headers, retryable };
}
