import type { AppError } from './errors.js';
import { rawNumber } from './json.js';
import type { ExactId, Operation, RecipientResult } from './operation.js';
import type { DeliveryResult, OperationAnswer } from './triggers/delivery.js';

/** An id written back with the JSON type the caller used; numbers keep every digit. */
const idValue = (id: ExactId): unknown => (id.kind === 'number' ? rawNumber(id.digits) : id.digits);

function recipientEntries(op: Operation, results: readonly RecipientResult[]): Array<Record<string, unknown>> {
  return op.recipients.map((r, i) => {
    const res = results[i] ?? { status: 'UNKNOWN' };
    const entry: Record<string, unknown> = { amount: r.amount, uid: idValue(r.uid) };
    if (res.youhuiId) entry['youhuiId'] = idValue(res.youhuiId);
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

/** The answer to one operation in the form it came in; an error status (nothing issued) uses the error shape. */
function operationBody(answer: OperationAnswer, inBatch: boolean): Record<string, unknown> {
  const op = answer.operation;
  if ('error' in answer) {
    const body = errorBody(answer.error, op.requestId);
    return op.form === 'envelope'
      ? { fromApp: op.fromApp, requestId: op.requestId, Success: false, Code: body['Code'], Message: body['Message'] }
      : body;
  }
  const { summary, results } = answer.outcome;
  if (summary.httpStatus !== 200 && !inBatch) {
    return { RequestId: op.requestId, Success: false, Code: summary.code, Message: summary.message };
  }
  const list = recipientEntries(op, results);
  const verdict = { Success: summary.success, Code: summary.code, Message: summary.message };
  if (op.form === 'envelope')
    return { fromApp: op.fromApp, requestId: op.requestId, param: { userAmountModelList: list }, ...verdict };
  return { RequestId: op.requestId, ...verdict, userAmountModelList: list };
}

export interface RenderedAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  /** A redelivery can make progress (recipients still owed, store down, another delivery in progress). */
  retryable: boolean;
}

function statusOf(answer: OperationAnswer): { status: number; retryAfter?: number; retryable: boolean } {
  if ('error' in answer) {
    const e = answer.error;
    return {
      status: e.status,
      retryable: e.retryable,
      ...(e.retryAfterSeconds === undefined ? {} : { retryAfter: e.retryAfterSeconds }),
    };
  }
  const s = answer.outcome.summary;
  return {
    status: s.httpStatus,
    retryable: s.retryable,
    ...(s.retryAfterSeconds === undefined ? {} : { retryAfter: s.retryAfterSeconds }),
  };
}

/** One delivery's answer: status, JSON body and headers, the same for every trigger. */
export function renderDelivery(result: DeliveryResult): RenderedAnswer {
  if ('error' in result) {
    const e = result.error;
    return {
      status: e.status,
      body: errorBody(e),
      headers: e.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(e.retryAfterSeconds) },
      retryable: e.retryable,
    };
  }
  const replayed = result.answers.length > 0 && result.answers.every((a) => 'outcome' in a && a.outcome.replayed);
  const statuses = result.answers.map(statusOf);
  const retryable = statuses.some((s) => s.retryable);
  const headers: Record<string, string> = replayed ? { 'Idempotent-Replayed': 'true' } : {};
  if (result.batch) {
    return { status: 200, body: result.answers.map((a) => operationBody(a, true)), headers, retryable };
  }
  const [only] = result.answers;
  const [s] = statuses;
  if (!only || !s) return { status: 200, body: [], headers, retryable };
  if (s.retryAfter !== undefined && s.status !== 200) headers['Retry-After'] = String(s.retryAfter);
  return { status: s.status, body: operationBody(only, false), headers, retryable };
}
