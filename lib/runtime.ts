import { ConfigError, loadConfig, type Config, type Env } from './config.js';
import { AppError } from './errors.js';
import { DailyBudget } from './guardrails/guardrails.js';
import { memoryLedgerOfProcess, type BudgetLedger } from './guardrails/ledger.js';
import { memoryStoreOfProcess } from './idempotency/memory.js';
import type { IdempotencyStore } from './idempotency/types.js';
import { createLogger, type Logger } from './log.js';
import { createResellerTradeClient, type ResellerTradeClient } from './resellertrade/client.js';
import type { QuotaBackend } from './quota/backend.js';
import { memoryQuotaOfProcess } from './quota/memory.js';
import { createQuota, type Quota } from './resellertrade/rate-limiter.js';
import { createHttpTransport } from './http/transport.js';
import { parseRedisUrl, RedisUrlError } from './redis/url.js';

/** Set by dist/<function>/index.mjs: whether V8 accepted the bundle's code cache (scripts/code-cache.ts). */
export const CODE_CACHE_STATUS = Symbol.for('coupon-sender.code-cache');

/** Everything an instance keeps between invocations: configuration, the store, the upstream client and its pacing. */
export interface Runtime {
  config: Config;
  store: IdempotencyStore;
  budget: DailyBudget;
  client: ResellerTradeClient;
  /** The seller's upstream quota: shared by every instance with Redis, per process with the memory store. */
  quota: Quota;
  logger: Logger;
  env: Env;
}

export interface RuntimeHolder {
  /** The instance's runtime; rejects with an AppError when the configuration is invalid. */
  get(): Promise<Runtime>;
  readonly logger: Logger;
}

interface Stores {
  store: IdempotencyStore;
  ledger: BudgetLedger;
  quota: QuotaBackend;
}

const memoryStores = (c: Config): Stores => ({
  store: memoryStoreOfProcess(),
  ledger: memoryLedgerOfProcess(),
  quota: memoryQuotaOfProcess(c.quota),
});

/** One connection for the idempotency records, the daily budget and the quota; the Redis client loads only here. */
async function redisStores(c: Config, url: string): Promise<Stores> {
  const [{ connectRedis }, { redisIdempotencyStore }, { redisBudgetLedger }, { redisQuota }] = await Promise.all([
    import('./redis/connect.js'),
    import('./idempotency/redis.js'),
    import('./guardrails/redis-ledger.js'),
    import('./quota/redis.js'),
  ]);
  const client = await connectRedis(url);
  return {
    store: redisIdempotencyStore(client, undefined, c.redisWait),
    ledger: redisBudgetLedger(client, undefined, c.redisWait),
    quota: redisQuota(client, c.quota),
  };
}

/** Options whose value is code or a module to load, not a setting: neither they nor their value are logged. */
const CODE_OPTIONS = new Set(['-e', '--eval', '-p', '--print', '-r', '--require', '--import', '--loader']);

/** The `--flag[=value]` settings node runs under (command line, then NODE_OPTIONS): what V8's cache check sees. */
export function nodeFlags(execArgv: readonly string[], nodeOptions = ''): string {
  const all = [...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)];
  return all
    .filter(
      (arg, i) =>
        arg.startsWith('--') && !CODE_OPTIONS.has(arg.split('=')[0] ?? '') && !CODE_OPTIONS.has(all[i - 1] ?? ''),
    )
    .map((arg) => arg.slice(0, 80))
    .join(' ');
}

/**
 * Validates the configuration at cold start (logging a clear message naming the variable once) and opens the
 * store in the background, so the first invocation does not wait for the Redis connection from scratch.
 */
export function createRuntime(env: Env): RuntimeHolder {
  let config: Config | undefined;
  let failure: AppError | undefined;
  try {
    config = loadConfig(env);
    // The URL's form is checked here, once, so a bad database path is named at cold start, not per request.
    if (config.store.kind === 'redis') parseRedisUrl(config.store.url);
  } catch (err) {
    if (err instanceof RedisUrlError)
      failure = new AppError(500, 'InvalidConfiguration', `IDEMPOTENCY_STORE: ${err.message}`);
    else if (err instanceof ConfigError) failure = new AppError(500, 'InvalidConfiguration', err.message);
    else throw err;
    config = undefined;
  }
  const logger = createLogger(config?.logLevel ?? 'info', { function: env['FC_FUNCTION_NAME'] });
  if (failure)
    logger.error('invalid configuration: every invocation will fail until it is fixed', { problems: failure.message });
  const codeCache = (globalThis as { [CODE_CACHE_STATUS]?: string })[CODE_CACHE_STATUS];
  // Whether this Node took the build's code cache is known only where it runs: each instance says so once.
  // The flags node was started with are logged too: V8 takes a code cache only under the flags it was trained with,
  // and FC's own flags are not documented (scripts/code-cache.ts).
  if (codeCache !== undefined)
    logger.info('instance started', {
      node: process.version,
      codeCache,
      nodeFlags: nodeFlags(process.execArgv, env['NODE_OPTIONS']),
    });

  const build = async (c: Config): Promise<Runtime> => {
    const { store, ledger, quota } = c.store.kind === 'redis' ? await redisStores(c, c.store.url) : memoryStores(c);
    const budget = new DailyBudget(ledger, c.guardrails, Date.now);
    const client = createResellerTradeClient(c.endpoint, createHttpTransport({ logger }));
    return { config: c, store, budget, client, quota: createQuota(quota), logger, env };
  };
  const runtime = config ? build(config) : Promise.reject(failure);
  // Handled by every get(); this only keeps an unused rejection from being reported as unhandled.
  runtime.catch(() => undefined);
  return { logger, get: () => runtime };
}
