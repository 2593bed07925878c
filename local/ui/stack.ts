import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { ConfigError, loadConfig, type Env } from '../../lib/config.js';
import type { BudgetLedger } from '../../lib/guardrails/ledger.js';
import { redisBudgetLedger } from '../../lib/guardrails/redis-ledger.js';
import { createHttpTransport } from '../../lib/http/transport.js';
import type { IdempotencyStore } from '../../lib/idempotency/types.js';
import { storeRecords } from '../../lib/operations/read.js';
import { DEFAULT_SETTLE_SECONDS } from '../../lib/reconcile/settle.js';
import { connectRedis } from '../../lib/redis/connect.js';
import { createResellerTradeClient, type Credentials } from '../../lib/resellertrade/client.js';
import { getCouponPage } from '../../lib/resellertrade/coupon-page.js';
import { operationsPage, type CampaignReader, type PageRequest } from './page.js';

export interface StackPageOptions {
  store: IdempotencyStore;
  /** The functions' ledger when they count the budget in memory; with a Redis store the page reads Redis. */
  memoryLedger: BudgetLedger;
  emulatorUrl: string;
  /** Where the functions send (GetCouponPage goes there too) and the keys they sign with. */
  endpoint: string;
  credentials: Credentials;
  env: Env;
  campaigns?: CampaignReader;
}

export interface StackPage {
  handle(request: PageRequest, res: ServerResponse): Promise<boolean>;
  close(): Promise<void>;
}

/** The operations page as the local stack serves it at /__ui, reading what the stack's functions write. */
export async function stackOperationsPage(options: StackPageOptions): Promise<StackPage> {
  const { env } = options;
  // The functions' own settings (DAILY_BUDGET, BUDGET_TIMEZONE, UPSTREAM_TIMEOUT_MS); when they are invalid every
  // send is refused anyway, and the page shows no budget.
  let settings: ReturnType<typeof loadConfig> | undefined;
  try {
    settings = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
  }
  const storeUrl = env['IDEMPOTENCY_STORE'];
  const redis = storeUrl && storeUrl !== 'memory' ? await connectRedis(storeUrl) : undefined;
  const ledger = redis ? redisBudgetLedger(redis) : options.memoryLedger;
  const client = createResellerTradeClient(new URL(options.endpoint), createHttpTransport());
  const settle = env['RECONCILE_SETTLE_SECONDS'];
  const settleSeconds = settle && /^[0-9]{1,5}$/.test(settle) ? Number(settle) : DEFAULT_SETTLE_SECONDS;
  const sellerId = settings?.sellerId;
  const deps = {
    records: storeRecords(options.store),
    budget: {
      ledger,
      ...(settings?.guardrails.dailyBudgetCents === undefined
        ? {}
        : { dailyBudgetCents: settings.guardrails.dailyBudgetCents }),
      timeZone: settings?.guardrails.budgetTimeZone ?? 'Asia/Shanghai',
      sellers: sellerId ? [sellerId] : [],
    },
    emulatorUrl: options.emulatorUrl,
    openLookup: () => (query: Parameters<typeof getCouponPage>[1]) =>
      getCouponPage(client, query, options.credentials, 10_000),
    reconcile: { upstreamTimeoutMs: settings?.upstreamTimeoutMs ?? 10_000, settleMs: settleSeconds * 1000 },
    ...(options.campaigns ? { campaigns: options.campaigns } : {}),
    secret: randomBytes(32),
  };
  return {
    handle: (request, res) => operationsPage(request, res, deps),
    async close() {
      redis?.disconnect();
    },
  };
}
