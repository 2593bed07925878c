import { credentialSource } from './credentials.js';
import { AppError } from './errors.js';
import type { FcContext } from './fc.js';
import type { Logger } from './log.js';
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
import { writeMetric } from './metrics/line.js';
import { OperationMeter } from './metrics/meter.js';
import { operationLine, type OperationLineInput } from './metrics/operation-line.js';
import { DEFAULT_RETRY_POLICY } from './resellertrade/retry.js';
import { executeOperation } from './send/execute.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function runOne(
  operation: Operation,
  invocation: Invocation,
  meter: OperationMeter,
  context: FcContext,
  log: Logger,
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
      logger: log,
      now: Date.now,
      sleep,
      random: Math.random,
      meter,
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

/**
 * Writes an operation's metric line (docs/metrics.md) once its answer is made, whichever trigger delivered it.
 * Nothing here may replace that answer: a line that cannot be built is logged as such, never thrown.
 */
function meterLine(log: Logger, input: OperationLineInput): void {
  try {
    writeMetric(log, operationLine(input));
  } catch (err) {
    log.error('operation metric line not written', { error: err instanceof Error ? err.message : String(err) });
  }
}

/** The handler every function shares: executes each valid operation of each delivery, in order. */
export async function sendDeliveries(event: PipelineEvent, context: FcContext): Promise<DeliveryResult[]> {
  const { invocation, deliveries } = expectStage(event, 'validated');
  const { config } = invocation.runtime;
  const budget =
    config.guardrails.dailyBudgetCents === undefined ? {} : { budgetLimitCents: config.guardrails.dailyBudgetCents };
  const results: DeliveryResult[] = [];
  for (const delivery of deliveries) {
    const log = invocation.logger.child(delivery.label);
    if ('error' in delivery) {
      const { error } = delivery;
      results.push({ error });
      const ref = error.requestId === undefined ? {} : { requestId: error.requestId };
      const durationMs = Date.now() - invocation.startedAt;
      meterLine(log, { ref, answer: { error }, chunkSize: config.chunkSize, durationMs, ...budget });
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
      const started = Date.now();
      const meter = new OperationMeter();
      meter.lane = lane;
      const operation = 'operation' in item ? item.operation : undefined;
      const answer = 'operation' in item ? await runOne(item.operation, invocation, meter, context, log, lane) : item;
      answers.push(answer);
      meterLine(log, {
        ref: answer.ref,
        ...(operation ? { operation } : {}),
        answer,
        chunkSize: config.chunkSize,
        durationMs: Date.now() - started,
        meter,
        ...budget,
      });
    }
    results.push({ batch: delivery.batch, results: answers });
  }
  return results;
}
