import { credentialSource } from './credentials.js';
import { AppError } from './errors.js';
import type { FcContext } from './fc.js';
import { refOf, type Operation } from './operation.js';
import type { Lane } from './quota/gcra.js';
import { laneOf } from './quota/lane.js';
import {
  expectStage,
  type DeliveryResult,
  type Invocation,
  type OperationResult,
  type PipelineEvent,
} from './pipeline.js';
import { DEFAULT_RETRY_POLICY } from './resellertrade/retry.js';
import { executeOperation } from './send/execute.js';
import type { DeliveryLabel } from './triggers/delivery.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function runOne(
  operation: Operation,
  invocation: Invocation,
  label: DeliveryLabel,
  context: FcContext,
  lane: Lane,
): Promise<OperationResult> {
  const { runtime } = invocation;
  const ref = refOf(operation);
  try {
    const credentials = credentialSource(context, runtime.env);
    if (!runtime.config.dryRun) credentials();
    const executed = await executeOperation(operation, {
      config: runtime.config,
      store: runtime.store,
      budget: runtime.budget,
      client: runtime.client,
      limiter: runtime.quota.limiter(operation.sellerId.digits, lane),
      policy: { ...DEFAULT_RETRY_POLICY, maxAttempts: runtime.config.upstreamMaxAttempts },
      credentials,
      timeoutMs: runtime.config.upstreamTimeoutMs,
      deadline: invocation.deadline,
      logger: invocation.logger.child(label),
      now: Date.now,
      sleep,
      random: Math.random,
    });
    return { ref, executed };
  } catch (err) {
    // executeOperation answers for everything it may have sent; what reaches here was refused before sending.
    const error =
      err instanceof AppError
        ? err
        : new AppError(500, 'InternalError', 'An internal error stopped this operation before anything was sent.', {
            requestId: operation.requestId,
          });
    const fields = { RequestId: operation.requestId, Code: error.code, status: error.status, Message: error.message };
    if (err instanceof AppError) invocation.logger.warn('operation not executed', fields);
    else
      invocation.logger.error('operation not executed', {
        ...fields,
        error: err instanceof Error ? err.message : String(err),
      });
    return { ref, error };
  }
}

/** The handler every function shares: executes each valid operation of each delivery, in order. */
export async function sendDeliveries(event: PipelineEvent, context: FcContext): Promise<DeliveryResult[]> {
  const { invocation, deliveries } = expectStage(event, 'validated');
  const results: DeliveryResult[] = [];
  for (const delivery of deliveries) {
    if ('error' in delivery) {
      results.push({ error: delivery.error });
      continue;
    }
    const answers: OperationResult[] = [];
    // A batch is judged by all it sends: many small operations together are bulk work too.
    const recipients = delivery.items.reduce(
      (n, item) => n + ('error' in item ? 0 : item.operation.recipients.length),
      0,
    );
    const lane = laneOf(invocation.trigger, recipients, invocation.runtime.config.quota.bulkThreshold);
    for (const item of delivery.items) {
      answers.push('error' in item ? item : await runOne(item.operation, invocation, delivery.label, context, lane));
    }
    results.push({ batch: delivery.batch, results: answers });
  }
  return results;
}
