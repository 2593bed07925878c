import type { MiddlewareObj } from '@middy/core';
import { AppError } from '../errors.js';
import type { FcContext } from '../fc.js';
import { expectStage, type PipelineEvent, type PipelineInternal, type ValidatedDelivery } from '../pipeline.js';
import { decodeSendRequest } from '../request/decode.js';
import { invocationOf } from './fc-invocation.js';

const unjudgeable = (err: unknown) =>
  new AppError(500, 'InternalError', 'This request could not be validated; nothing was sent.', { cause: err });

/**
 * Validates every received send request with the precompiled ajv validators plus the configured limits. A bad
 * delivery or batch element becomes an answer of its own (all its problems listed); the others go on. Event and
 * timer refusals are logged as errors: no redelivery can fix them.
 */
export function sendRequestValidator(): MiddlewareObj<PipelineEvent, unknown, Error, FcContext, PipelineInternal> {
  return {
    name: 'sendRequestValidator',
    before: (request) => {
      const invocation = invocationOf(request);
      const { config } = invocation.runtime;
      const log = invocation.logger;
      const level = invocation.trigger === 'http' ? 'warn' : 'error';
      const refused = (label: Record<string, string>, err: AppError) =>
        log[level]('request refused', {
          ...label,
          Code: err.code,
          status: err.status,
          RequestId: err.requestId,
          errors: err.errors,
        });
      const deliveries = expectStage(request.event, 'received').deliveries.map((delivery): ValidatedDelivery => {
        const { label } = delivery;
        if ('refused' in delivery) {
          refused(label, delivery.refused);
          return { label, error: delivery.refused };
        }
        try {
          const decoded = decodeSendRequest(delivery.value, config, delivery.rule);
          for (const item of decoded.items) if ('error' in item) refused(label, item.error);
          return { label, ...decoded };
        } catch (err) {
          // A fault of ours on one delivery's content is that delivery's answer: nothing was sent, and throwing
          // would have the platform redeliver the whole invocation (siblings included) into its dead-letter queue.
          const error = err instanceof AppError ? err : unjudgeable(err);
          refused(label, error);
          return { label, error };
        }
      });
      request.event = { stage: 'validated', invocation, deliveries };
    },
  };
}
