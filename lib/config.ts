/** Typed configuration, read once per instance from the environment; every problem names its variable. */
import { toCents } from './guardrails/cents.js';
import { hostSharesMemoryStore } from './idempotency/memory.js';
import { fractionDigits } from './json.js';
import { quote } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type StoreSetting = { kind: 'memory' } | { kind: 'redis'; url: string };

export interface Config {
  sellerId?: string;
  fromApp?: string;
  endpoint: URL;
  store: StoreSetting;
  idempotencyTtlSeconds: number;
  maxCouponAmount: number;
  maxRecipients: number;
  chunkSize: number;
  chunkConcurrency: number;
  upstreamTimeoutMs: number;
  upstreamMaxAttempts: number;
  /** The seller's upstream quota, shared by every instance through the store (lib/quota/). */
  quota: QuotaConfig;
  logLevel: LogLevel;
  dryRun: boolean;
  guardrails: GuardrailSettings;
  /**
   * IDEMPOTENCY_REDIS_WAIT_REPLICAS / _TIMEOUT_MS: replicas that must hold each store write before it counts
   * (Redis WAIT; 0: none). For deployments that fail over to a replica (docs/operations-redis.md).
   */
  redisWait: { replicas: number; timeoutMs: number };
}

/** Spending limits checked before anything is sent (docs/configuration.md); amounts in cents, so sums stay exact. */
export interface GuardrailSettings {
  maxOperationCents?: number;
  /** Canonical template ids; absent: any template. */
  templateAllowlist?: ReadonlySet<string>;
  dailyBudgetCents?: number;
  budgetTimeZone: string;
}

export interface QuotaConfig {
  /** UPSTREAM_QPS: SendCoupon calls per second the seller's quota allows. */
  qps: number;
  /** UPSTREAM_BURST: calls that may start at once after a quiet time. */
  burst: number;
  /** BULK_SHARE: the most of the quota bulk work takes while interactive work waits. */
  bulkShare: number;
  /** BULK_THRESHOLD: an HTTP or event send of more recipients than this is bulk work. */
  bulkThreshold: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** The environment as FC and Node hand it over. */
export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ENDPOINT = 'https://resellertrade.aliyuncs.com';

/**
 * The longest timeout of any function `s.yaml` deploys (the timer's). A record must outlive every delivery that
 * may still be running, so a shorter IDEMPOTENCY_TTL_SECONDS is refused at cold start (test/unit/s-yaml.test.ts
 * keeps s.yaml within it).
 */
export const LONGEST_FUNCTION_TIMEOUT_SECONDS = 900;

/** True inside Function Compute itself (FC sets these for every instance; the local stack does not). */
export function isDeployed(env: Env): boolean {
  return Boolean(env['FC_FUNCTION_NAME'] && env['FC_REGION']);
}

export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${quote(raw)}")`);
      return fallback;
    }
    return n;
  };

  /** A decimal number from min to max (a fraction allowed). */
  const decimal = (name: string, fallback: number, min: number, max: number, what: string): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be ${what} from ${min} to ${max} (got "${quote(raw)}")`);
      return fallback;
    }
    return n;
  };

  const sellerId = text('SELLER_ID');
  if (
    sellerId !== undefined &&
    (!/^[1-9][0-9]{0,18}$/.test(sellerId) || (sellerId.length === 19 && sellerId > '9223372036854775807'))
  ) {
    problems.push(
      `SELLER_ID must be digits without leading zeros, from 1 to 9223372036854775807 (got "${quote(sellerId)}")`,
    );
  }
  const fromApp = text('FROM_APP');
  if (fromApp !== undefined && fromApp.length > 64) problems.push('FROM_APP must be at most 64 characters');

  let endpoint = new URL(DEFAULT_ENDPOINT);
  const rawEndpoint = text('RESELLERTRADE_ENDPOINT');
  if (rawEndpoint !== undefined) {
    try {
      endpoint = new URL(/^https?:\/\//.test(rawEndpoint) ? rawEndpoint : `https://${rawEndpoint}`);
    } catch {
      problems.push(`RESELLERTRADE_ENDPOINT must be a URL such as ${DEFAULT_ENDPOINT} (got "${quote(rawEndpoint)}")`);
    }
  }

  let store: StoreSetting = { kind: 'memory' };
  const rawStore = text('IDEMPOTENCY_STORE');
  if (rawStore === undefined || rawStore === 'memory') {
    if (isDeployed(env) && !hostSharesMemoryStore()) {
      problems.push(
        'IDEMPOTENCY_STORE must be redis://… in a deployed function: FC runs many instances and an in-memory store cannot see the others',
      );
    }
  } else if (/^rediss?:\/\//.test(rawStore)) {
    store = { kind: 'redis', url: rawStore };
  } else {
    problems.push(
      // Never quoted: whatever its shape, the value may hold a password.
      'IDEMPOTENCY_STORE must be "memory" or a redis:// or rediss:// URL (the value given is not quoted: it may hold a password)',
    );
  }

  /** A money amount: a number with at most 2 decimals from 0.01 to 1e12. */
  const money = (name: string): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0.01 || n > 1e12 || fractionDigits(raw) > 2) {
      problems.push(`${name} must be a number from 0.01 to 1e12 with at most 2 decimals (got "${quote(raw)}")`);
      return undefined;
    }
    return n;
  };
  const maxCouponAmount = money('MAX_COUPON_AMOUNT') ?? 10000;
  const maxOperationAmount = money('MAX_OPERATION_AMOUNT');
  const dailyBudget = money('DAILY_BUDGET');

  const rawAllowlist = text('TEMPLATE_ALLOWLIST');
  let templateAllowlist: Set<string> | undefined;
  if (rawAllowlist !== undefined) {
    const ids = rawAllowlist.split(',').map((t) => t.trim());
    if (ids.some((id) => !/^[1-9][0-9]{0,18}$/.test(id))) {
      problems.push(`TEMPLATE_ALLOWLIST must be template ids separated by commas (got "${quote(rawAllowlist)}")`);
    } else templateAllowlist = new Set(ids);
  }

  const budgetTimeZone = text('BUDGET_TIMEZONE') ?? 'Asia/Shanghai';
  // Checked only where it counts: loading time zone data costs about 10 ms of cold start.
  if (dailyBudget !== undefined || budgetTimeZone !== 'Asia/Shanghai') {
    try {
      new Intl.DateTimeFormat('en-CA', { timeZone: budgetTimeZone });
    } catch {
      problems.push(`BUDGET_TIMEZONE must be an IANA time zone such as Asia/Shanghai (got "${quote(budgetTimeZone)}")`);
    }
  }

  if (text('UPSTREAM_INITIAL_QPS') !== undefined)
    problems.push(
      "UPSTREAM_INITIAL_QPS is no longer read: set UPSTREAM_QPS to the seller's quota (shared by every instance) and UPSTREAM_BURST",
    );

  const rawLevel = text('LOG_LEVEL')?.toLowerCase() ?? 'info';
  const logLevel = (['debug', 'info', 'warn', 'error'] as const).find((l) => l === rawLevel);
  if (logLevel === undefined) problems.push(`LOG_LEVEL must be debug, info, warn or error (got "${quote(rawLevel)}")`);

  const rawDry = text('DRY_RUN')?.toLowerCase();
  if (rawDry !== undefined && !['true', 'false', '1', '0'].includes(rawDry))
    problems.push(`DRY_RUN must be true or false (got "${quote(rawDry)}")`);

  const waitReplicas = int('IDEMPOTENCY_REDIS_WAIT_REPLICAS', 0, 0, 16);
  const waitTimeoutMs = int('IDEMPOTENCY_REDIS_WAIT_TIMEOUT_MS', 500, 1, 10_000);
  if (waitReplicas > 0 && store.kind !== 'redis')
    problems.push('IDEMPOTENCY_REDIS_WAIT_REPLICAS needs IDEMPOTENCY_STORE to be a redis:// or rediss:// URL');

  const config: Config = {
    endpoint,
    store,
    idempotencyTtlSeconds: int('IDEMPOTENCY_TTL_SECONDS', 604800, LONGEST_FUNCTION_TIMEOUT_SECONDS, 31_536_000),
    maxCouponAmount,
    maxRecipients: int('MAX_RECIPIENTS', 10000, 1, 100_000),
    chunkSize: int('CHUNK_SIZE', 50, 1, 1000),
    chunkConcurrency: int('CHUNK_CONCURRENCY', 4, 1, 64),
    upstreamTimeoutMs: int('UPSTREAM_TIMEOUT_MS', 10_000, 100, 600_000),
    upstreamMaxAttempts: int('UPSTREAM_MAX_ATTEMPTS', 6, 1, 20),
    quota: {
      qps: decimal('UPSTREAM_QPS', 50, 0.1, 10_000, "the seller's SendCoupon calls per second, a number"),
      burst: int('UPSTREAM_BURST', 10, 1, 10_000),
      bulkShare: decimal('BULK_SHARE', 0.8, 0.05, 1, 'the share of UPSTREAM_QPS bulk work may take, a number'),
      bulkThreshold: int('BULK_THRESHOLD', 200, 1, 100_000),
    },
    logLevel: logLevel ?? 'info',
    dryRun: rawDry === 'true' || rawDry === '1',
    redisWait: { replicas: waitReplicas, timeoutMs: waitTimeoutMs },
    guardrails: {
      budgetTimeZone,
      ...(maxOperationAmount === undefined ? {} : { maxOperationCents: toCents(maxOperationAmount) }),
      ...(templateAllowlist === undefined ? {} : { templateAllowlist }),
      ...(dailyBudget === undefined ? {} : { dailyBudgetCents: toCents(dailyBudget) }),
    },
  };
  if (sellerId !== undefined) config.sellerId = sellerId;
  if (fromApp !== undefined) config.fromApp = fromApp;
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
