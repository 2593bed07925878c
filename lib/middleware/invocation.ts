import type { MiddlewareObj } from '@middy/core';
import { invocationDeadline } from '../fc.js';
import type { InvocationContext, TriggerKind } from '../invocation.js';
import type { RuntimeHolder } from '../runtime.js';

/**
 * First middleware of every function: binds a logger to this invocation's ids, derives the deadline FC does
 * not expose, and fetches the instance runtime (an invalid configuration fails here, before anything else).
 */
export function fcInvocation(
  trigger: TriggerKind,
  holder: RuntimeHolder,
): MiddlewareObj<Buffer, unknown, Error, InvocationContext> {
  return {
    name: 'fcInvocation',
    before: async (request) => {
      const startedAt = Date.now();
      const context = request.context;
      const logger = holder.logger.child({ requestId: context.requestId, trigger });
      const runtime = await holder.get();
      context.invocation = {
        trigger,
        fcRequestId: context.requestId,
        startedAt,
        deadline: invocationDeadline(context, startedAt) - 250,
        logger,
        runtime,
        received: [],
        decoded: [],
      };
      logger.debug('invocation start', { retryCount: context.retryCount, bytes: request.event?.length });
    },
  };
}
