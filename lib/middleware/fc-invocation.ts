import type { MiddlewareObj } from '@middy/core';
import { invocationDeadline, type FcContext } from '../fc.js';
import type { Invocation, PipelineEvent, PipelineInternal, PipelineRequest, TriggerKind } from '../pipeline.js';
import type { RuntimeHolder } from '../runtime.js';

/** Stop sending this long before FC's own timeout, so the answer and the store writes still fit. */
const DEADLINE_MARGIN_MS = 250;

/**
 * First middleware of every function: binds a logger to this invocation's ids, derives the deadline FC does
 * not expose, and fetches the instance runtime (an invalid configuration fails here, before anything else).
 */
export function fcInvocation(
  trigger: TriggerKind,
  holder: RuntimeHolder,
): MiddlewareObj<PipelineEvent, unknown, Error, FcContext, PipelineInternal> {
  return {
    name: 'fcInvocation',
    before: async (request) => {
      const startedAt = Date.now();
      const { context } = request;
      const logger = holder.logger.child({ requestId: context.requestId, trigger });
      const runtime = await holder.get();
      request.internal.invocation = {
        trigger,
        fcRequestId: context.requestId,
        startedAt,
        deadline: invocationDeadline(context, startedAt) - DEADLINE_MARGIN_MS,
        logger,
        runtime,
      };
      logger.debug('invocation start', { retryCount: context.retryCount });
    },
  };
}

export function invocationOf(request: Pick<PipelineRequest, 'internal'>): Invocation {
  const invocation = request.internal.invocation;
  if (!invocation) throw new Error('the fcInvocation middleware must run first');
  return invocation;
}
