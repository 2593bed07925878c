import type { MiddlewareObj } from '@middy/core';
import { errorBody, renderDelivery } from '../answer.js';
import { AppError } from '../errors.js';
import { stringifyExact } from '../json.js';
import type { InvocationContext } from '../invocation.js';
import type { Logger } from '../log.js';
import type { DeliveryResult } from '../triggers/delivery.js';
import { toFcHttpResponse } from '../triggers/http.js';

const internal = () =>
  new AppError(
    500,
    'InternalError',
    'An internal error occurred; nothing more is known to have been sent than the logs show. Quote the request id to support.',
  );

function loggerOf(context: InvocationContext, fallback: Logger): Logger {
  return context.invocation?.logger ?? fallback.child({ requestId: context.requestId });
}

/** Maps results and errors to the FC HTTP response of CONTRACT §4; no stack trace or internal path ever leaves. */
export function httpAnswer(base: Logger): MiddlewareObj<Buffer, unknown, Error, InvocationContext> {
  return {
    name: 'httpAnswer',
    after: (request) => {
      const [first] = request.response as DeliveryResult[];
      const rendered = first ? renderDelivery(first) : renderDelivery({ error: internal() });
      loggerOf(request.context, base).info('answered', {
        status: rendered.status,
        ...summaryFields(first),
        durationMs: request.context.invocation ? Date.now() - request.context.invocation.startedAt : undefined,
      });
      request.response = toFcHttpResponse(rendered.status, stringifyExact(rendered.body), rendered.headers);
    },
    onError: (request) => {
      const log = loggerOf(request.context, base);
      let error = request.error;
      if (!(error instanceof AppError)) {
        log.error('unhandled error', { error: error?.message, name: error?.name });
        error = internal();
      } else {
        log.warn('answered with an error', { status: error.status, Code: error.code, Message: error.message });
      }
      const e = error as AppError;
      const headers: Record<string, string> =
        e.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(e.retryAfterSeconds) };
      request.response = toFcHttpResponse(e.status, stringifyExact(errorBody(e)), headers);
    },
  };
}

/** The operation ids and verdicts of a delivery, for the one line that closes each invocation. */
function summaryFields(result: DeliveryResult | undefined): Record<string, unknown> {
  if (!result || 'error' in result) return result ? { Code: result.error.code } : {};
  const ops = result.answers.map((a) => ({
    RequestId: a.operation.requestId,
    Code: 'error' in a ? a.error.code : a.outcome.summary.code,
    replayed: 'outcome' in a && a.outcome.replayed,
  }));
  return ops.length === 1 ? { ...ops[0] } : { operations: ops };
}

export class RetryableDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableDeliveryError';
  }
}

/**
 * Event and timer functions answer the same JSON as HTTP would (as exact JSON text), and throw only when a
 * platform retry can help and cannot duplicate anything: recipients still owed, another delivery in progress,
 * the store unavailable. Validation failures and business rejections are answered, not thrown.
 */
export function jsonAnswer(base: Logger): MiddlewareObj<Buffer, unknown, Error, InvocationContext> {
  return {
    name: 'jsonAnswer',
    after: (request) => {
      const results = request.response as DeliveryResult[];
      const rendered = results.map(renderDelivery);
      const body = rendered.length === 1 ? rendered[0]?.body : rendered.map((r) => r.body);
      const text = stringifyExact(body);
      const log = loggerOf(request.context, base);
      const retryable = rendered.filter((r) => r.retryable);
      if (retryable.length > 0) {
        log.warn('delivery not finished: throwing so the platform delivers it again', {
          statuses: rendered.map((r) => r.status),
          result: text.slice(0, 2000),
        });
        throw new RetryableDeliveryError(
          `${retryable.length} of ${rendered.length} deliveries are not finished (statuses ${rendered.map((r) => r.status).join(',')}); redelivery continues them without duplicates`,
        );
      }
      log.info('answered', {
        statuses: rendered.map((r) => r.status),
        ...(results.length === 1 ? summaryFields(results[0]) : {}),
        durationMs: request.context.invocation ? Date.now() - request.context.invocation.startedAt : undefined,
      });
      request.response = text;
    },
    onError: (request) => {
      const error = request.error;
      if (error instanceof RetryableDeliveryError) return;
      const log = loggerOf(request.context, base);
      if (error instanceof AppError && !error.retryable && error.status < 500) {
        log.warn('answered with an error', { status: error.status, Code: error.code, Message: error.message });
        request.response = stringifyExact(errorBody(error));
        return;
      }
      log.error('invocation failed; the platform may deliver it again', { error: error?.message, name: error?.name });
      if (!(error instanceof AppError)) request.error = internal();
    },
  };
}
