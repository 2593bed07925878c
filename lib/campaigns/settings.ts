/** The campaign functions' settings, read from the environment only where campaigns run (never at a send's cold start). */
import type { Env } from '../config.js';
import { toCents } from '../guardrails/cents.js';
import { quote } from '../redact.js';

export interface CampaignSettings {
  /** Recipients per chunk (one chunk = one operation = one async task). */
  chunkSize: number;
  /** MAX_CAMPAIGN_AMOUNT in cents: the most one campaign may total; undefined: no cap. */
  maxCampaignCents?: number;
  /** SendCoupon calls a second the ETA assumes: UPSTREAM_QPS, else DEFAULT_QUOTA_QPS. */
  quotaQps: number;
  /** The bucket results are written to (OSS_BUCKET). */
  bucket: string;
  /** As ali-oss takes it: `oss-cn-hangzhou`. */
  ossRegion: string;
  /** OSS_ENDPOINT: the local stack's bucket server; unset when deployed (the region decides). */
  ossEndpoint?: string;
  /** Key prefix of everything a campaign writes to the bucket. */
  prefix: string;
  /**
   * FC 3.0's API endpoint for the asynchronous submissions: FC_ENDPOINT, else the region's VPC endpoint
   * `<account>.<region>-internal.fc.aliyuncs.com` (the functions run in a VPC).
   */
  fcEndpoint: URL;
}

/** The ETA's rate when UPSTREAM_QPS is not configured: ResellerTrade's usual per-account SendCoupon quota. */
export const DEFAULT_QUOTA_QPS = 20;

export class CampaignSettingsError extends Error {
  constructor(problems: string[]) {
    super(`Invalid campaign configuration: ${problems.join('; ')}`);
    this.name = 'CampaignSettingsError';
  }
}

export function campaignSettings(env: Env): CampaignSettings {
  const problems: string[] = [];
  const text = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${quote(raw)}")`);
      return fallback;
    }
    return n;
  };
  let maxCampaignCents: number | undefined;
  const rawMax = text('MAX_CAMPAIGN_AMOUNT');
  if (rawMax !== undefined) {
    const n = Number(rawMax);
    if (!/^\d+(\.\d{1,2})?$/.test(rawMax) || !(n >= 0.01) || n > 1e12)
      problems.push(
        `MAX_CAMPAIGN_AMOUNT must be a number from 0.01 to 1e12 with at most 2 decimals (got "${quote(rawMax)}")`,
      );
    else maxCampaignCents = toCents(n);
  }
  const region = text('OSS_REGION') ?? `oss-${text('FC_REGION') ?? 'cn-hangzhou'}`;
  if (!/^oss-[a-z0-9-]+$/.test(region))
    problems.push(`OSS_REGION must be an OSS region id such as oss-cn-hangzhou (got "${quote(region)}")`);
  const bucket = text('OSS_BUCKET') ?? 'coupon-campaigns';
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket))
    problems.push(`OSS_BUCKET must be an OSS bucket name (got "${quote(bucket)}")`);
  const url = (name: string, fallback: string) => {
    const raw = text(name) ?? fallback;
    try {
      return new URL(/^https?:\/\//.test(raw) ? raw : `https://${raw}`);
    } catch {
      problems.push(`${name} must be a URL (got "${quote(raw)}")`);
      return new URL('https://invalid.invalid');
    }
  };
  const fcEndpoint = url(
    'FC_ENDPOINT',
    `${text('FC_ACCOUNT_ID') ?? 'account'}.${text('FC_REGION') ?? 'cn-hangzhou'}-internal.fc.aliyuncs.com`,
  );
  const ossEndpoint = text('OSS_ENDPOINT');
  const settings: CampaignSettings = {
    chunkSize: int('CAMPAIGN_CHUNK_SIZE', 1000, 1, 10_000),
    quotaQps: int('UPSTREAM_QPS', DEFAULT_QUOTA_QPS, 1, 100_000),
    bucket,
    ossRegion: region,
    prefix: 'campaigns',
    fcEndpoint,
    ...(maxCampaignCents === undefined ? {} : { maxCampaignCents }),
    ...(ossEndpoint === undefined ? {} : { ossEndpoint: url('OSS_ENDPOINT', ossEndpoint).origin }),
  };
  if (problems.length > 0) throw new CampaignSettingsError(problems);
  return settings;
}
