import { centsOf, operationRefusal, type DailyBudget } from '../guardrails/guardrails.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Operation, RecipientResult } from '../operation.js';
import { maskUid } from '../redact.js';
import { buildSendCouponForm, chunkRequestId } from '../resellertrade/form.js';
import type { ResellerTradeClient } from '../resellertrade/client.js';
import { verdictOf } from '../verdict.js';
import type { ExecutedOperation } from './execute.js';
import { chunkCount, chunkRecipients } from './results.js';

export interface DryRunContext {
  config: Pick<Config, 'chunkSize' | 'guardrails'>;
  client: Pick<ResellerTradeClient, 'endpoint'>;
  budget: Pick<DailyBudget, 'check'>;
  logger: Logger;
}

/**
 * DRY_RUN (docs/configuration.md): the guardrails are checked (the daily budget read, never reserved), and every chunk's
 * exact upstream form is logged with uids masked. Nothing is claimed, sent or reserved.
 */
export async function dryRun(op: Operation, ctx: DryRunContext): Promise<ExecutedOperation> {
  const answer = (results: RecipientResult[]): ExecutedOperation => ({
    operation: op,
    results,
    verdict: verdictOf(results),
    replayed: false,
    dryRun: true,
  });
  const refused =
    operationRefusal(op, ctx.config.guardrails) ?? (await ctx.budget.check(op.sellerId.digits, centsOf(op.recipients)));
  if (refused) {
    ctx.logger.warn('dry run: a guardrail would refuse this operation', {
      Code: refused.code,
      Message: refused.message,
    });
    const results = op.recipients.map((): RecipientResult => ({
      status: 'FAILED',
      code: refused.code,
      message: refused.message,
      retryable: true,
    }));
    return answer(results);
  }
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
  return answer(op.recipients.map((): RecipientResult => ({ status: 'DRY_RUN' })));
}
