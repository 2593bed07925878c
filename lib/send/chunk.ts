import type { Credentials, ResellerTradeClient } from '../resellertrade/client.js';
import type { UpstreamOutcome } from '../resellertrade/mapping.js';
import type { Granted, RateLimiter, Refused } from '../resellertrade/rate-limiter.js';
import { retryDelay, type RetryPolicy } from '../resellertrade/retry.js';
import type { Logger } from '../log.js';
import { isThrottled, upstreamCallLine, type ChunkFields } from '../metrics/call-line.js';
import { writeMetric } from '../metrics/line.js';
import type { OperationMeter } from '../metrics/meter.js';

export interface ChunkSendContext {
  client: ResellerTradeClient;
  limiter: RateLimiter;
  policy: RetryPolicy;
  /** Read again for every attempt, so a retry after InvalidSecurityToken.Expired signs with fresh keys. */
  credentials: () => Credentials;
  timeoutMs: number;
  deadline: number;
  logger: Logger;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Counts this operation's calls and throttles for its metric line. */
  meter?: OperationMeter;
  /**
   * Asked before each chunk's call (a campaign supplies it from its state): true means start no new call. The
   * chunks not started stay owed (PENDING), never UNKNOWN, and are sent when the operation is delivered again.
   */
  shouldStop?: () => Promise<boolean>;
}

/** Below this much time left, a call is not started: it would end as a timeout, i.e. as an unknown outcome. */
export const MIN_ATTEMPT_MS = 1000;

type Rejected = Extract<UpstreamOutcome, { kind: 'rejected' }>;

export const deadlineOutcome = (attempts: number): Rejected => ({
  kind: 'rejected',
  retry: 'none',
  blame: 'caller',
  code: attempts === 0 ? 'NotAttempted' : 'DeadlineExceeded',
  message:
    attempts === 0
      ? 'the function ran out of time before this chunk could be sent; it is sent when the same operation is delivered again'
      : 'the function ran out of time while retrying this chunk; nothing was issued for it, and it is sent when the same operation is delivered again',
});

/**
 * Why a chunk got no slot of the shared quota: nothing was sent, it stays owed, and the message says when a
 * retry would fit (the seller's other sends hold the quota until then).
 */
export function lateOutcome(attempts: number, refused: Refused): Rejected {
  const seconds = Math.max(1, Math.ceil(refused.retryAfterMs / 1000));
  const why =
    refused.reason === 'store'
      ? 'the shared upstream quota could not be reached'
      : "no slot of the seller's upstream quota was free before the function's deadline";
  return {
    ...deadlineOutcome(attempts),
    retryAfterMs: refused.retryAfterMs,
    message: `${why}; nothing was sent for this chunk, and it is sent when the same operation is delivered again (retryAfter ${seconds} s: a retry fits from then)`,
  };
}

/** Waits for a slot of the shared quota that still leaves time for a whole call; the owed outcome when there is none. */
export async function reserveSlot(
  ctx: Pick<ChunkSendContext, 'limiter' | 'deadline' | 'timeoutMs'>,
  attempts = 0,
): Promise<Granted | Rejected> {
  const slot = await ctx.limiter.acquire(ctx.deadline - Math.min(ctx.timeoutMs, MIN_ATTEMPT_MS));
  return slot.granted ? slot : lateOutcome(attempts, slot);
}

/**
 * Where a chunk's state is written: SENDING before each attempt leaves, PENDING again after a refusal that
 * proves nothing ran, so that a crash during a backoff leaves the chunk sendable instead of UNKNOWN.
 */
export interface ChunkJournal {
  /** Announces an attempt expected to take up to `callMs`; false when the store could not record it: then no attempt. */
  sending(callMs: number): Promise<boolean>;
  /** The chunk is owed again and will wait up to `waitMs` before its next attempt. */
  pending(outcome: Rejected, waitMs: number): Promise<void>;
}

export type ChunkSendResult = { outcome: UpstreamOutcome; attempts: number } | { unrecorded: true; attempts: number };

const timeLeft = (ctx: Pick<ChunkSendContext, 'timeoutMs' | 'deadline' | 'now'>) =>
  Math.min(ctx.timeoutMs, ctx.deadline - ctx.now());

/**
 * Sends one chunk's form, retrying only what the retry policy allows. The first slot is reserved by the caller;
 * each retry reserves its own. Time left is checked again after every await before a call: a call that could
 * not finish before the deadline is never started, and the chunk is written back as owed.
 */
export async function sendChunk(
  ctx: ChunkSendContext,
  journal: ChunkJournal,
  form: string,
  firstSlot: Granted,
  fields: ChunkFields,
): Promise<ChunkSendResult> {
  let slot = firstSlot;
  for (let attempt = 1; ; attempt++) {
    if (!(await journal.sending(timeLeft(ctx)))) return { unrecorded: true, attempts: attempt - 1 };
    const timeoutMs = timeLeft(ctx);
    if (timeoutMs < Math.min(ctx.timeoutMs, MIN_ATTEMPT_MS)) {
      const late = deadlineOutcome(attempt - 1);
      await journal.pending(late, 0);
      return { outcome: late, attempts: attempt - 1 };
    }
    const { outcome, latencyMs } = await ctx.client.call('SendCoupon', form, ctx.credentials(), timeoutMs);
    ctx.meter?.call(isThrottled(outcome));
    const line = { action: 'SendCoupon', chunk: fields, attempt, latencyMs, outcome };
    if (outcome.kind === 'ok') {
      writeMetric(ctx.logger, upstreamCallLine(line));
      return { outcome, attempts: attempt };
    }
    if (outcome.kind === 'rejected' && outcome.retry === 'throttled')
      await ctx.limiter.onThrottled(slot, outcome.retryAfterMs);
    const delay = retryDelay(outcome, attempt, ctx.policy, ctx.random);
    writeMetric(ctx.logger, upstreamCallLine({ ...line, ...(delay === undefined ? {} : { retryInMs: delay }) }));
    if (delay === undefined || outcome.kind !== 'rejected') return { outcome, attempts: attempt };
    await journal.pending(outcome, delay + ctx.timeoutMs);
    if (ctx.now() + delay + MIN_ATTEMPT_MS > ctx.deadline) {
      return { outcome: { ...deadlineOutcome(attempt), code: outcome.code }, attempts: attempt };
    }
    await ctx.sleep(delay);
    const next = await reserveSlot(ctx, attempt);
    if ('kind' in next) return { outcome: next, attempts: attempt };
    slot = next;
  }
}
