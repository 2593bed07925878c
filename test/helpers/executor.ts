import { loadConfig } from '../../lib/config.js';
import { DailyBudget } from '../../lib/guardrails/guardrails.js';
import { createMemoryLedger } from '../../lib/guardrails/ledger.js';
import type { IdempotencyStore } from '../../lib/idempotency/types.js';
import { createLogger } from '../../lib/log.js';
import type { ResellerTradeClient, UpstreamCall } from '../../lib/resellertrade/client.js';
import { memoryQuota } from '../../lib/quota/memory.js';
import { createQuota } from '../../lib/resellertrade/rate-limiter.js';
import type { ExecuteContext } from '../../lib/send/execute.js';

/** What the scripted upstream answers next; a function sees the call's form and may wait (or never return). */
export type Scripted = UpstreamCall | ((form: string) => Promise<UpstreamCall>);

export interface TestContext extends ExecuteContext {
  calls: string[];
  logs: string[];
}

/** An executor context on a scripted upstream: one chunk per recipient, one call at a time, no real waiting. */
export function executorContext(
  store: IdempotencyStore,
  answers: Scripted[],
  over: Partial<ExecuteContext> = {},
): TestContext {
  const calls: string[] = [];
  const logs: string[] = [];
  const client: ResellerTradeClient = {
    endpoint: new URL('http://upstream.invalid'),
    call: async (_action, form) => {
      calls.push(form);
      const next = answers.shift();
      if (!next) throw new Error('unexpected call');
      return typeof next === 'function' ? next(form) : next;
    },
  };
  return {
    calls,
    logs,
    config: { ...loadConfig({}), chunkSize: 1, chunkConcurrency: 1 },
    store,
    budget: new DailyBudget(createMemoryLedger(), { budgetTimeZone: 'Asia/Shanghai' }, Date.now),
    client,
    limiter: createQuota(memoryQuota({ qps: 1000, burst: 1000, bulkShare: 0.8 }), {
      now: over.now ?? Date.now,
    }).limiter('seller', 'interactive'),
    policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    credentials: () => ({ accessKeyId: 'a', accessKeySecret: 's' }),
    timeoutMs: 1000,
    deadline: Date.now() + 60_000,
    logger: createLogger('debug', {}, (l) => logs.push(l)),
    now: Date.now,
    sleep: async () => undefined,
    random: () => 0.5,
    ...over,
  };
}

export const ok = (uid: string, youhuiId: string): UpstreamCall => ({
  outcome: { kind: 'ok', httpStatus: 200, items: [{ uid, youhuiId: { text: youhuiId, kind: 'number' } }] },
  latencyMs: 1,
});
export const throttled: UpstreamCall = {
  outcome: { kind: 'rejected', retry: 'throttled', blame: 'caller', code: 'Throttling.User', message: 'slow down' },
  latencyMs: 1,
};
export const timedOut: UpstreamCall = {
  outcome: { kind: 'unknown', code: 'Upstream.Timeout', message: 'no answer' },
  latencyMs: 1,
};

/** A call that never answers: the delivery making it is as good as crashed mid-call. */
export const never = (): Promise<UpstreamCall> => new Promise(() => undefined);

/** The uid a SendCoupon form names first. */
export const uidOf = (form: string) => new URLSearchParams(form).get('UserAmountModelList.1.Uid');
