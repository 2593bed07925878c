import type { UpstreamOutcome } from '../resellertrade/mapping.js';
import { defined, type MetricLine } from './line.js';

/** The chunk a call sends, as every line about that chunk names it. */
export interface ChunkFields {
  chunk: number;
  chunks: number;
  recipients: number;
  /** The chunk's total amount in cents. */
  amountCents: number;
  /** The RequestId sent upstream for this chunk (the same for every attempt). */
  upstreamRequestId: string;
}

export interface CallLineInput {
  action: string;
  chunk: ChunkFields;
  attempt: number;
  latencyMs: number;
  outcome: UpstreamOutcome;
  /** When the call is tried again, after how long; absent when it is not. */
  retryInMs?: number;
}

export const isThrottled = (outcome: UpstreamOutcome): boolean =>
  outcome.kind === 'rejected' && outcome.retry === 'throttled';

/**
 * The one line of an upstream call (each attempt is one call): the upstream's own RequestId and Code, the
 * latency and the attempt, as every operator chart of the upstream needs them (docs/metrics.md).
 */
export function upstreamCallLine(input: CallLineInput): MetricLine {
  const { outcome } = input;
  return {
    msg: `upstream ${input.action}`,
    level: outcome.kind === 'ok' ? 'info' : outcome.kind === 'unknown' ? 'error' : 'warn',
    fields: defined({
      metric: 'upstream_call',
      action: input.action,
      ...input.chunk,
      attempt: input.attempt,
      latencyMs: Math.round(input.latencyMs),
      outcome: outcome.kind,
      Code: outcome.kind === 'ok' ? (outcome.partial?.code ?? 'success') : outcome.code,
      upstreamResponseRequestId: outcome.upstreamRequestId,
      upstreamHttpStatus: outcome.kind === 'unknown' ? undefined : outcome.httpStatus,
      throttled: isThrottled(outcome),
      Message: outcome.kind === 'ok' ? outcome.partial?.message : outcome.message,
      retryInMs: input.retryInMs,
    }),
  };
}
