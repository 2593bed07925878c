import type { MiddlewareObj } from '@middy/core';
import { AppError } from '../errors.js';
import { invocationOf, type InvocationContext } from '../invocation.js';
import { decodeSendRequest } from '../request.js';

/**
 * Validates every received send request with the precompiled ajv validators plus the configured limits. A
 * bad delivery becomes an answer of its own (all its problems listed); the others go on.
 */
export function sendRequestValidator(): MiddlewareObj<Buffer, unknown, Error, InvocationContext> {
  return {
    name: 'sendRequestValidator',
    before: (request) => {
      const inv = invocationOf(request.context);
      const { config } = inv.runtime;
      inv.decoded = inv.received.map((delivery) => {
        try {
          return { delivery, decoded: decodeSendRequest(delivery.value, config, delivery.rule) };
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          inv.logger.warn('request rejected', {
            ...delivery.label,
            Code: err.code,
            status: err.status,
            RequestId: err.requestId,
            errors: err.errors,
          });
          return { delivery, error: err };
        }
      });
    },
  };
}
