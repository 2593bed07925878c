import type { UpstreamOutcome } from './mapping.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5000 };

/**
 * The one retry rule of the project. Only a refusal that proves nothing was executed is retried (throttling,
 * a used nonce, a stale timestamp, an expired token after the credentials are read again, a connection that
 * never carried the request). Capped exponential backoff with full jitter, never shorter than Retry-After.
 * Returns the delay before the next attempt, or undefined when there must be none.
 */
export function retryDelay(
  outcome: UpstreamOutcome,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (outcome.kind !== 'rejected' || outcome.retry === 'none' || attempt >= policy.maxAttempts) return undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, outcome.retryAfterMs ?? 0);
}
