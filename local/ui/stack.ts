import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Env } from '../../lib/config.js';
import type { BudgetLedger } from '../../lib/guardrails/ledger.js';
import { redisBudgetLedger } from '../../lib/guardrails/redis-ledger.js';
import { createHttpTransport } from '../../lib/http/transport.js';
import type { IdempotencyStore } from '../../lib/idempotency/types.js';
import { storeRecords } from '../../lib/operations/read.js';
import { connectRedis } from '../../lib/redis/connect.js';
import { createResellerTradeClient, type Credentials } from '../../lib/resellertrade/client.js';
import { getCouponPage } from '../../lib/resellertrade/coupon-page.js';
import { redisCampaignStore } from '../../lib/campaigns/redis-store.js';
import type { CampaignStore } from '../../lib/campaigns/store.js';
import { campaignReader } from '../../lib/ui/campaigns.js';
import { operationsPage, writePageAnswer, type PageRequest } from '../../lib/ui/page.js';
import { pageSettings } from '../../lib/ui/settings.js';

export interface StackPageOptions {
  store: IdempotencyStore;
  /** The functions' ledger when they count the budget in memory; with a Redis store the page reads Redis. */
  memoryLedger: BudgetLedger;
  emulatorUrl: string;
  /** Where the functions send (GetCouponPage goes there too) and the keys they sign with. */
  endpoint: string;
  credentials: Credentials;
  env: Env;
  /** The functions' campaigns when they keep them in memory; with a Redis store the page reads Redis. */
  memoryCampaigns: Pick<CampaignStore, 'recent'>;
}

export interface StackPage {
  handle(request: PageRequest, res: ServerResponse): Promise<boolean>;
  close(): Promise<void>;
}

/** The operations page as the local stack serves it at /__ui, reading what the stack's functions write. */
export async function stackOperationsPage(options: StackPageOptions): Promise<StackPage> {
  const { env } = options;
  const settings = pageSettings(env);
  const storeUrl = env['IDEMPOTENCY_STORE'];
  const redis = storeUrl && storeUrl !== 'memory' ? await connectRedis(storeUrl) : undefined;
  const ledger = redis ? redisBudgetLedger(redis) : options.memoryLedger;
  const campaigns = campaignReader(redis ? redisCampaignStore(redis) : options.memoryCampaigns);
  const client = createResellerTradeClient(new URL(options.endpoint), createHttpTransport());
  const deps = {
    records: storeRecords(options.store),
    budget: { ledger, ...settings.budget },
    emulatorUrl: options.emulatorUrl,
    openLookup: () => (query: Parameters<typeof getCouponPage>[1]) =>
      getCouponPage(client, query, options.credentials, 10_000),
    reconcile: settings.reconcile,
    campaigns,
    secret: randomBytes(32),
  };
  return {
    async handle(request, res) {
      const answer = await operationsPage(request, deps);
      if (answer) writePageAnswer(res, answer);
      return answer !== undefined;
    },
    async close() {
      redis?.disconnect();
    },
  };
}
