import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Env } from '../lib/config.js';
import { CAMPAIGN_ID } from '../lib/campaigns/chunk-operation.js';
import { ListError, planList, type ListPlan } from '../lib/campaigns/plan.js';
import { recipientsPerSecond } from '../lib/campaigns/state.js';
import { UsageError } from './exit.js';
import { inline } from './terminal.js';

const READ_SLICE = 64 * 1024;

export interface CheckedList {
  /** The file's bytes: exactly what was checked is what is uploaded. */
  bytes: Buffer;
  plan: ListPlan;
}

/** The limits the local check applies: this environment's, as the function reads them. */
export function listLimits(env: Env): { maxCouponAmount: number; chunkSize: number } {
  try {
    const config = loadConfig(env);
    return { maxCouponAmount: config.maxCouponAmount, chunkSize: config.chunkSize };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Reads the list file once and plans it with the campaign's own planner (lib/campaigns/plan.ts): every line
 * judged by the rules of a send, invalid lines by number, the totals. A list that cannot be a campaign at all
 * (no header, empty, too many recipients) is a usage error.
 */
export async function checkList(path: string, env: Env): Promise<CheckedList> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new UsageError(`--file ${inline(path.slice(0, 200))} cannot be read (${inline(code)})`);
  }
  const { maxCouponAmount } = listLimits(env);
  async function* slices() {
    for (let at = 0; at < bytes.length; at += READ_SLICE) yield bytes.subarray(at, at + READ_SLICE);
  }
  try {
    return { bytes, plan: await planList(slices(), { maxCouponAmount }) };
  } catch (err) {
    if (err instanceof ListError)
      throw new UsageError(`--file ${inline(path.slice(0, 200))} cannot be a campaign: ${err.message}`);
    throw err;
  }
}

/**
 * The default CampaignId: the same file, template, seller and app give the same id, so running the same start
 * again answers the campaign it started; a different template makes a different campaign, never the old one.
 */
export function derivedCampaignId(
  listSha256: string,
  parts: { template: string; seller?: string; fromApp?: string },
): string {
  const hash = createHash('sha256')
    .update([listSha256, parts.template, parts.seller ?? '', parts.fromApp ?? ''].join('\n'))
    .digest('hex');
  return `c-${hash.slice(0, 40)}`;
}

export function checkCampaignId(id: string, what = '--campaign-id'): string {
  if (!CAMPAIGN_ID.test(id))
    throw new UsageError(`${what} must be 1-48 characters of A-Z a-z 0-9 _ - (got "${inline(id.slice(0, 64))}")`);
  return id;
}

/** Where the list is uploaded: named by its content, so a running campaign's list is never overwritten. */
export const listKey = (plan: Pick<ListPlan, 'sha256' | 'format'>): string => `lists/${plan.sha256}.${plan.format}`;

/** The ETA at the configured quota (UPSTREAM_QPS calls a second of CHUNK_SIZE recipients), when it is set. */
export function localEtaSeconds(total: number, env: Env): number | undefined {
  const raw = env['UPSTREAM_QPS']?.trim();
  if (!raw) return undefined;
  const qps = Number(raw);
  if (!Number.isFinite(qps) || qps <= 0) return undefined;
  const rate = recipientsPerSecond(qps, listLimits(env).chunkSize);
  return Math.ceil(total / rate);
}
