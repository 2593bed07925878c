import { ConfigError, loadConfig, type Config, type Env } from '../config.js';
import { DEFAULT_SETTLE_SECONDS } from '../reconcile/settle.js';
import type { BudgetSource, PageDeps } from './page.js';

export interface PageSettings {
  /** The functions' configuration; undefined when it is invalid (every send is refused then anyway). */
  config: Config | undefined;
  /** What is wrong with the configuration, when it is invalid. */
  problem?: string;
  budget: Omit<BudgetSource, 'ledger'>;
  reconcile: PageDeps['reconcile'];
}

/**
 * What the page reads from the functions' own settings (DAILY_BUDGET, BUDGET_TIMEZONE, SELLER_ID,
 * UPSTREAM_TIMEOUT_MS) and RECONCILE_SETTLE_SECONDS, the same wherever the page runs.
 */
export function pageSettings(env: Env): PageSettings {
  let config: Config | undefined;
  let problem: string | undefined;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problem = err.message;
  }
  const settle = env['RECONCILE_SETTLE_SECONDS'];
  const settleSeconds = settle && /^[0-9]{1,5}$/.test(settle) ? Number(settle) : DEFAULT_SETTLE_SECONDS;
  const dailyBudgetCents = config?.guardrails.dailyBudgetCents;
  return {
    config,
    ...(problem === undefined ? {} : { problem }),
    budget: {
      ...(dailyBudgetCents === undefined ? {} : { dailyBudgetCents }),
      timeZone: config?.guardrails.budgetTimeZone ?? 'Asia/Shanghai',
      sellers: config?.sellerId ? [config.sellerId] : [],
    },
    reconcile: { upstreamTimeoutMs: config?.upstreamTimeoutMs ?? 10_000, settleMs: settleSeconds * 1000 },
  };
}
