import { credentialSource } from './credentials.js';
import { AppError } from './errors.js';
import { invocationOf, type InvocationContext } from './invocation.js';
import { DEFAULT_RETRY_POLICY } from './resellertrade/retry.js';
import { executeOperation } from './send/execute.js';
import type { DeliveryResult, OperationAnswer } from './triggers/delivery.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The handler every function shares: executes each valid operation of each delivery, in order. */
export async function sendDeliveries(_event: Buffer, context: InvocationContext): Promise<DeliveryResult[]> {
  const inv = invocationOf(context);
  const { runtime } = inv;
  const credentials = credentialSource(context, runtime.env);
  const results: DeliveryResult[] = [];
  for (const item of inv.decoded) {
    if ('error' in item) {
      results.push({ error: item.error });
      continue;
    }
    const answers: OperationAnswer[] = [];
    for (const operation of item.decoded.operations) {
      try {
        if (!runtime.config.dryRun) credentials();
        const outcome = await executeOperation(operation, {
          config: runtime.config,
          store: runtime.store,
          client: runtime.client,
          limiter: runtime.limiter,
          policy: { ...DEFAULT_RETRY_POLICY, maxAttempts: runtime.config.upstreamMaxAttempts },
          credentials,
          timeoutMs: runtime.config.upstreamTimeoutMs,
          deadline: inv.deadline,
          logger: inv.logger.child(item.delivery.label),
          now: Date.now,
          sleep,
          random: Math.random,
        });
        answers.push({ operation, outcome });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        inv.logger.warn('operation not executed', {
          RequestId: operation.requestId,
          Code: err.code,
          status: err.status,
          Message: err.message,
        });
        answers.push({ operation, error: err });
      }
    }
    results.push({ batch: item.decoded.batch, answers });
  }
  return results;
}
