import type { Logger } from '../log.js';
import type { Operation } from '../operation.js';
import { maskUid } from '../redact.js';
import { buildSendCouponForm, chunkRequestId } from '../resellertrade/form.js';
import type { ResellerTradeClient } from '../resellertrade/client.js';
import { verdictOf } from '../verdict.js';
import type { ExecutedOperation } from './execute.js';
import { chunkCount, chunkRecipients } from './results.js';

export interface DryRunContext {
  config: { chunkSize: number };
  client: Pick<ResellerTradeClient, 'endpoint'>;
  logger: Logger;
}

/** DRY_RUN: every chunk's exact upstream form logged (uids masked); nothing claimed, sent or reserved. */
export function dryRun(op: Operation, ctx: DryRunContext): ExecutedOperation {
  const size = ctx.config.chunkSize;
  const count = chunkCount(op, size);
  for (let n = 1; n <= count; n++) {
    const upstreamRequestId = chunkRequestId(op.requestId, n, count);
    const form = buildSendCouponForm(op, chunkRecipients(op, size, n), upstreamRequestId);
    ctx.logger.info('dry run: SendCoupon not sent', {
      upstreamRequestId,
      chunk: n,
      endpoint: ctx.client.endpoint.href,
      form: form.replace(/(Uid=)(\d+)/g, (_m, k: string, uid: string) => `${k}${maskUid(uid)}`),
    });
  }
  const results = op.recipients.map(() => ({ status: 'DRY_RUN' as const }));
  return { operation: op, results, verdict: verdictOf(results), replayed: false };
}
