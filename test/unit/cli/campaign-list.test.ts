import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketSettings, DEFAULT_BUCKET } from '../../../cli/campaign-bucket.js';
import { checkCampaignId, checkList, derivedCampaignId, listKey, localEtaSeconds } from '../../../cli/campaign-list.js';
import { UsageError } from '../../../cli/exit.js';
import { CAMPAIGN_ID } from '../../../lib/campaigns/chunk-operation.js';

const dir = mkdtempSync(join(tmpdir(), 'coupon-campaign-list-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('the local check of a list', () => {
  it('plans it with the campaign planner: totals, chunks and invalid lines by physical line number', async () => {
    const path = file(
      'mixed.csv',
      '\ufeffuid,amount\r\n1918000000000000883,8.88\r\n\r\n007,5\r\n1918000000000000884,100\r\n1918000000000000883,1\r\n1918000000000000885,1e-10',
    );
    const { plan, bytes } = await checkList(path, {});
    expect(bytes.length).toBe(plan.bytes);
    expect(plan).toMatchObject({ format: 'csv', total: 2, totalCents: 10888, blankLines: 1, invalidCount: 3 });
    expect(plan.invalidLines.map((l) => l.line)).toEqual([4, 6, 7]);
    expect(plan.invalidLines[1]?.problem).toBe('uid duplicates the uid on line 2');
  });

  it('applies MAX_COUPON_AMOUNT from the environment, as the function does', async () => {
    const path = file('big.jsonl', '{"uid":"1918000000000000883","amount":50}\n{"uid":1,"amount":5}\n');
    expect((await checkList(path, {})).plan.invalidCount).toBe(0);
    const capped = (await checkList(path, { MAX_COUPON_AMOUNT: '10' })).plan;
    expect(capped.invalidLines).toEqual([{ line: 1, problem: expect.stringMatching(/MAX_COUPON_AMOUNT|at most/) }]);
    await expect(checkList(path, { MAX_COUPON_AMOUNT: 'lots' })).rejects.toThrow(/MAX_COUPON_AMOUNT/);
  });

  it.each([
    ['no header', '1918000000000000883,8.88\n', /line 1 must be the CSV header/],
    ['nothing but blank lines', '\n  \n', /empty or blank/],
  ])('refuses a list with %s as a usage error', async (name, text, message) => {
    const path = file(`${name}.csv`, text);
    await expect(checkList(path, {})).rejects.toThrow(UsageError);
    await expect(checkList(path, {})).rejects.toThrow(message);
  });

  it('names a file it cannot read', async () => {
    await expect(checkList(join(dir, 'missing.csv'), {})).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});

describe('the campaign id and the list key', () => {
  const sha = 'a'.repeat(64);
  it('derives the same valid id from the same list and parameters, another from another template', () => {
    const a = derivedCampaignId(sha, { template: '7', seller: '3', fromApp: 'shop' });
    expect(a).toMatch(CAMPAIGN_ID);
    expect(derivedCampaignId(sha, { template: '7', seller: '3', fromApp: 'shop' })).toBe(a);
    expect(derivedCampaignId(sha, { template: '8', seller: '3', fromApp: 'shop' })).not.toBe(a);
    expect(derivedCampaignId('b'.repeat(64), { template: '7', seller: '3', fromApp: 'shop' })).not.toBe(a);
    expect(`${a}:1000`.length).toBeLessThanOrEqual(64);
  });

  it('uploads a list under its content hash, so a running campaign list is never replaced', () => {
    expect(listKey({ sha256: sha, format: 'jsonl' })).toBe(`lists/${sha}.jsonl`);
  });

  it.each(['', 'has space', 'x'.repeat(49), 'a:b', 'é'])('refuses the campaign id %j', (id) => {
    expect(() => checkCampaignId(id)).toThrow(UsageError);
  });

  it('gives an ETA only with a quota configured', () => {
    expect(localEtaSeconds(1_000_000, {})).toBeUndefined();
    expect(localEtaSeconds(1_000_000, { UPSTREAM_QPS: '50' })).toBe(400);
    expect(localEtaSeconds(1_000_000, { UPSTREAM_QPS: '50', CHUNK_SIZE: '100' })).toBe(200);
  });
});

describe('the bucket settings', () => {
  it('default to the local stack bucket and key', () => {
    expect(bucketSettings({}, true)).toMatchObject({
      endpoint: 'http://127.0.0.1:9200',
      bucket: DEFAULT_BUCKET,
      region: 'oss-cn-hangzhou',
      resultsPrefix: 'campaigns',
      accessKeyId: expect.any(String),
    });
    expect(bucketSettings({ OSS_PORT: '9300', OSS_BUCKET: 'lists-2' }, true)).toMatchObject({
      endpoint: 'http://127.0.0.1:9300',
      bucket: 'lists-2',
    });
  });

  it('take OSS keys first, then ALIBABA_CLOUD keys for a deployment', () => {
    const cloud = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'cid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'cs' };
    expect(bucketSettings({ ...cloud, OSS_REGION: 'cn-shanghai' }, false)).toMatchObject({
      region: 'oss-cn-shanghai',
      accessKeyId: 'cid',
    });
    expect(
      bucketSettings(
        { ...cloud, OSS_REGION: 'oss-cn-shanghai', OSS_ACCESS_KEY_ID: 'oid', OSS_ACCESS_KEY_SECRET: 'os' },
        false,
      ),
    ).toMatchObject({ accessKeyId: 'oid', accessKeySecret: 'os' });
    expect(bucketSettings({ OSS_ACCESS_KEY_ID: 'oid', OSS_ACCESS_KEY_SECRET: 'os' }, true)).toMatchObject({
      accessKeyId: 'oid',
    });
    expect(bucketSettings({ LOCAL_CALLER_KEYS: 'caller:sec,other:x' }, true)).toMatchObject({
      accessKeyId: 'caller',
      accessKeySecret: 'sec',
    });
    expect(bucketSettings({ EMULATOR_ACCESS_KEY_ID: 'e', EMULATOR_ACCESS_KEY_SECRET: 's' }, true)).toMatchObject({
      accessKeyId: 'e',
    });
  });

  it.each([
    [{ OSS_BUCKET: 'Bad_Bucket' }, true, /OSS_BUCKET must be a bucket name/],
    [{ OSS_ENDPOINT: 'ftp://x' }, true, /OSS_ENDPOINT must be an http/],
    [{ OSS_ENDPOINT: 'not a url' }, true, /OSS_ENDPOINT must be an http/],
    [{ OSS_ACCESS_KEY_ID: 'only-id' }, true, /both OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET/],
    [{ ALIBABA_CLOUD_ACCESS_KEY_ID: 'a', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'b' }, false, /OSS_ENDPOINT or OSS_REGION/],
    [{ OSS_REGION: 'cn-hangzhou' }, false, /OSS_ACCESS_KEY_ID\/_SECRET or ALIBABA_CLOUD/],
    [{ OSS_REGION: 'Hangzhou!' }, true, /OSS_REGION must be a region/],
  ])('refuses %j (local %s) with a message naming the variable', (env, local, message) => {
    expect(() => bucketSettings(env, local)).toThrow(UsageError);
    expect(() => bucketSettings(env, local)).toThrow(message);
  });
});
