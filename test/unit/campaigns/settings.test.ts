import { describe, expect, it } from 'vitest';
import { campaignSettings, CampaignSettingsError, DEFAULT_QUOTA_QPS } from '../../../lib/campaigns/settings.js';

describe('campaign settings', () => {
  it('defaults: 1,000 a chunk, no cap, the default quota, the region VPC endpoint of FC', () => {
    const s = campaignSettings({ FC_REGION: 'cn-shanghai', FC_ACCOUNT_ID: '1234' });
    expect(s).toMatchObject({ chunkSize: 1000, quotaQps: DEFAULT_QUOTA_QPS, bucket: 'coupon-campaigns' });
    expect(s.maxCampaignCents).toBeUndefined();
    expect(s.ossRegion).toBe('oss-cn-shanghai');
    expect(s.fcEndpoint.href).toBe('https://1234.cn-shanghai-internal.fc.aliyuncs.com/');
  });

  it('takes the configured values', () => {
    const s = campaignSettings({
      CAMPAIGN_CHUNK_SIZE: '250',
      MAX_CAMPAIGN_AMOUNT: '100000.50',
      UPSTREAM_QPS: '50',
      OSS_BUCKET: 'my-lists',
      OSS_ENDPOINT: 'http://127.0.0.1:9300',
      FC_ENDPOINT: 'http://127.0.0.1:9000',
    });
    expect(s).toMatchObject({ chunkSize: 250, maxCampaignCents: 10_000_050, quotaQps: 50, bucket: 'my-lists' });
    expect(s.ossEndpoint).toBe('http://127.0.0.1:9300');
    expect(s.fcEndpoint.origin).toBe('http://127.0.0.1:9000');
  });

  it.each([
    ['CAMPAIGN_CHUNK_SIZE', '0'],
    ['CAMPAIGN_CHUNK_SIZE', '1e3'],
    ['MAX_CAMPAIGN_AMOUNT', '1.005'],
    ['MAX_CAMPAIGN_AMOUNT', '-1'],
    ['UPSTREAM_QPS', 'fast'],
    ['OSS_BUCKET', 'Bad_Bucket'],
    ['OSS_REGION', 'cn-hangzhou'],
  ])('refuses %s=%s naming it', (name, value) => {
    expect(() => campaignSettings({ [name]: value })).toThrow(CampaignSettingsError);
    expect(() => campaignSettings({ [name]: value })).toThrow(name);
  });
});
