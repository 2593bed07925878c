import type { MiddlewareObj } from '@middy/core';
import { errorReply, renderDelivery, type Reply } from '../answer.js';
import { AppError } from '../errors.js';
import type { FcContext } from '../fc.js';
import { stringifyExact } from '../json.js';
import type { Logger } from '../log.js';
import type { DeliveryResult, PipelineEvent, PipelineInternal, PipelineRequest } from '../pipeline.js';
import { toFcHttpResponse } from '../triggers/http-event.js';

type Encoder = MiddlewareObj<PipelineEvent, unknown, Error, FcContext, PipelineInternal>;

const internal = () =>
  new AppError(
    500,
    'InternalError',
    'An internal error occurred before anything was sent. Quote the request id to support.',
  );

function loggerOf(request: PipelineRequest, fallback: Logger): Logger {
  return request.internal.invocation?.logger ?? fallback.child({ requestId: request.context.requestId });
}

const durationOf = (request: PipelineRequest) => {
  const started = request.internal.invocation?.startedAt;
  return started === undefined ? undefined : Date.now() - started;
};

/** The operation ids and verdicts of a delivery, for the one line that closes each invocation (no uids). */
function summaryFields(result: DeliveryResult | undefined): Record<string, unknown> {
  if (!result || 'error' in result) return result ? { Code: result.error.code } : {};
  const ops = result.results.map((r) =>
    'error' in r
      ? { RequestId: r.ref.requestId, Code: r.error.code }
      : { RequestId: r.executed.operation.requestId, Code: r.executed.verdict.code, replayed: r.executed.replayed },
  );
  return ops.length === 1 ? { ...ops[0] } : { operations: ops };
}

/** An error that escaped everything else: logged by name only, answered as a 500 that hides nothing issued. */
function replyToError(request: PipelineRequest, base: Logger): Reply {
  const log = loggerOf(request, base);
  const error = request.error;
  if (error instanceof AppError) {
    log.warn('answered with an error', { status: error.status, Code: error.code, Message: error.message });
    return errorReply(error);
  }
  log.error('unhandled error', { error: error?.message, name: error?.name });
  return errorReply(internal());
}

/** Maps results and errors to the FC HTTP response of docs/requests.md; no stack trace or internal path ever leaves. */
export function httpAnswer(base: Logger): Encoder {
  return {
    name: 'httpAnswer',
    after: (request) => {
      const [first] = request.response as DeliveryResult[];
      const reply = first ? renderDelivery(first) : errorReply(internal());
      loggerOf(request, base).info('answered', {
        status: reply.status,
        ...summaryFields(first),
        durationMs: durationOf(request),
      });
      request.response = toFcHttpResponse(reply.status, stringifyExact(reply.body), reply.headers);
    },
    onError: (request) => {
      const reply = replyToError(request, base);
      request.response = toFcHttpResponse(reply.status, stringifyExact(reply.body), reply.headers);
    },
  };
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
export function jsonAnswer(base: Logger): Encoder {
  return {
    name: 'jsonAnswer',
    after: (request) => {
      const results = request.response as DeliveryResult[];
      const replies = results.map(renderDelivery);
      const statuses = replies.map((r) => r.status);
      const log = loggerOf(request, base);
      const unfinished = replies.filter((r) => r.retryable).length;
      if (unfinished > 0) {
        log.warn('delivery not finished: throwing so the platform delivers it again', { statuses });
        throw new RetryableDeliveryError(
          `${unfinished} of ${replies.length} deliveries are not finished (statuses ${statuses.join(',')}); redelivery continues them without duplicates`,
        );
      }
      const fields = results.length === 1 ? summaryFields(results[0]) : {};
      log.info('answered', { statuses, ...fields, durationMs: durationOf(request) });
      request.response = stringifyExact(replies.length === 1 ? replies[0]?.body : replies.map((r) => r.body));
    },
    onError: (request) => {
      const error = request.error;
      if (error instanceof RetryableDeliveryError) return;
      if (error instanceof AppError && !error.retryable && error.status < 500) {
        request.response = stringifyExact(replyToError(request, base).body);
        return;
      }
      loggerOf(request, base).error('invocation failed; the platform may deliver it again', {
        error: error?.message,
        name: error?.name,
      });
      if (!(error instanceof AppError)) request.error = internal();
    },
  };
}
