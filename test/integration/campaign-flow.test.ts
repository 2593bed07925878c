import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_KEYS, signedPost } from '../helpers/caller.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { invoke, ledger, rid } from '../helpers/stack.js';
import {
  campaignStatus,
  controlCampaign,
  csvList,
  startCampaign,
  startCampaignStack,
  waitForCampaign,
  type CampaignStack,
} from '../helpers/campaign-stack.js';

const SELLER = '3944837183';
const TEMPLATE = '295873';
const campaignBody = (id: string, key: string, over: Record<string, unknown> = {}) => ({
  CampaignId: id,
  SellerId: SELLER,
  TemplateId: TEMPLATE,
  FromApp: 'campaigns',
  Bucket: 'coupon-campaigns',
  Key: key,
  ...over,
});
const campaignId = (label: string) =>
  rid(label)
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(-40);

describe('a campaign end to end on the local stack', () => {
  let s: CampaignStack;
  beforeAll(async () => {
    s = await startCampaignStack({ LOCAL_MAX_INSTANCES: '4' });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('sends 20,000 recipients once each through POST /campaigns, counts them exactly and writes every results file', async () => {
    const { text, uids } = csvList(20_000, 1918_100_000_000n);
    // Line 3 has a bad amount and line 6 repeats line 2's uid: both reported by number and never sent.
    const lines = text.split('\n');
    lines.splice(2, 0, '1918999999999,0.001');
    lines.splice(5, 0, `${uids[0]},5`);
    await s.bucket.put('lists/big.csv', Buffer.from(lines.join('\n')));
    const id = campaignId('big');

    const started = await startCampaign(s.stack, campaignBody(id, 'lists/big.csv'));
    expect(started.status, started.text).toBe(202);
    expect(started.json).toMatchObject({ campaignId: id, state: 'PLANNING', total: 20_000, sent: 0 });
    expect(started.json.invalidLines).toEqual([
      { line: 3, problem: expect.stringContaining('amount') },
      { line: 6, problem: 'uid duplicates the uid on line 2' },
    ]);
    expect(typeof started.json.eta).toBe('string');

    const done = await waitForCampaign(s.stack, id, (v) => v['state'] === 'COMPLETED', 180_000);
    expect(done).toMatchObject({ total: 20_000, planned: 20_000, sent: 20_000, failed: 0, unknown: 0, pending: 0 });

    const issued = (await ledger(s.stack)).filter((c) => c.requestId.startsWith(`${id}:`));
    expect(issued).toHaveLength(20_000);
    expect(new Set(issued.map((c) => c.uid))).toEqual(new Set(uids));
    expect(issued.some((c) => c.uid === '1918999999999')).toBe(false);

    for (const n of [1, 20]) {
      const key = `campaigns/${id}/results/${String(n).padStart(6, '0')}.jsonl`;
      const stream = await s.bucket.getStream(key);
      const parts: Buffer[] = [];
      for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
      const results = Buffer.concat(parts).toString('utf8').trim().split('\n');
      expect(results).toHaveLength(1000);
      expect(JSON.parse(results[0] ?? '{}')).toMatchObject({ status: 'SENT' });
    }
    await expect(s.bucket.head(`campaigns/${id}/results/000021.jsonl`)).rejects.toThrow();
  }, 240_000);

  it('shows the campaign with its progress on the operations page', async () => {
    await s.bucket.put('lists/page.csv', Buffer.from(csvList(12, 1918_300_000_000n).text));
    const id = campaignId('page');
    expect((await startCampaign(s.stack, campaignBody(id, 'lists/page.csv'))).status).toBe(202);
    await waitForCampaign(s.stack, id, (v) => v['state'] === 'COMPLETED');
    const page = await (await fetch(`${s.stack.gateway}/__ui`)).text();
    const row = page.slice(page.indexOf(id), page.indexOf('</tr>', page.indexOf(id)));
    expect(page).toContain(id);
    expect(row).toContain('COMPLETED');
    expect(row).toContain('12');
  });

  it('starts once: the same id and list answer the existing campaign, another list or template is refused (422)', async () => {
    await s.bucket.put('lists/small.csv', Buffer.from(csvList(30, 1918_200_000_000n).text));
    await s.bucket.put('lists/other.csv', Buffer.from(csvList(31, 1918_200_000_000n).text));
    const id = campaignId('idem');
    const first = await startCampaign(s.stack, campaignBody(id, 'lists/small.csv'));
    expect(first.status, first.text).toBe(202);
    await waitForCampaign(s.stack, id, (v) => v['state'] === 'COMPLETED');
    const again = await startCampaign(s.stack, campaignBody(id, 'lists/small.csv'));
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ campaignId: id, state: 'COMPLETED', sent: 30 });
    const other = await startCampaign(s.stack, campaignBody(id, 'lists/other.csv'));
    expect(other.status).toBe(422);
    expect(other.json).toMatchObject({ Code: 'IdempotencyKeyReused' });
    const template = await startCampaign(s.stack, campaignBody(id, 'lists/small.csv', { TemplateId: '295874' }));
    expect(template.status).toBe(422);
    const issued = (await ledger(s.stack)).filter((c) => c.requestId.startsWith(`${id}:`));
    expect(issued).toHaveLength(30);
  }, 120_000);

  it.each([
    [{ TemplateId: '007' }, '/TemplateId'],
    [{ CampaignId: 'a b' }, '/CampaignId'],
    [{ ammount: 1 }, '/ammount'],
    [{ Bucket: 'Bad_Bucket' }, '/Bucket'],
  ])('refuses an invalid start %j naming the field (400), recording nothing', async (over, path) => {
    const id = campaignId('bad');
    const answer = await startCampaign(s.stack, campaignBody(id, 'lists/small.csv', over));
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect((await campaignStatus(s.stack, id)).status).toBe(404);
  });

  it('starts a campaign from an event whose data is the same start body (coupon-event)', async () => {
    await s.bucket.put('lists/event.csv', Buffer.from(csvList(12, 1918_700_000_000n).text));
    const id = campaignId('event');
    const event = {
      specversion: '1.0',
      id: `evt-${id}`,
      source: 'acs.coupon.campaign',
      type: 'coupon:CampaignStart',
      data: campaignBody(id, 'lists/event.csv'),
    };
    const answer = await invoke(s.stack, 'coupon-event', event);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ status: 202, campaignId: id, total: 12 });
    await waitForCampaign(s.stack, id, (v) => v['state'] === 'COMPLETED' && v['sent'] === 12);
    expect((await ledger(s.stack)).filter((c) => c.requestId.startsWith(`${id}:`))).toHaveLength(12);
  }, 60_000);

  it('answers 404 for an unknown campaign and 409 for a transition its state does not allow', async () => {
    expect((await campaignStatus(s.stack, 'no-such-campaign')).status).toBe(404);
    expect((await controlCampaign(s.stack, 'no-such-campaign', 'pause')).status).toBe(404);
    await s.bucket.put('lists/tiny.csv', Buffer.from(csvList(3, 1918_300_000_000n).text));
    const id = campaignId('final');
    expect((await startCampaign(s.stack, campaignBody(id, 'lists/tiny.csv'))).status).toBe(202);
    await waitForCampaign(s.stack, id, (v) => v['state'] === 'COMPLETED');
    const pause = await controlCampaign(s.stack, id, 'pause');
    expect(pause.status).toBe(409);
    expect((await controlCampaign(s.stack, id, 'cancel')).status).toBe(409);
  }, 60_000);
});

describe('a campaign under caller authentication (LOCAL_AUTH=function)', () => {
  let s: CampaignStack;
  beforeAll(async () => {
    s = await startCampaignStack({ LOCAL_AUTH: 'function', LOCAL_CALLER_KEYS: CALLER_KEYS });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('refuses an unsigned start, and runs a signed one: the functions submit their tasks with the role key', async () => {
    await s.bucket.put('lists/auth.csv', Buffer.from(csvList(25, 1918_800_000_000n).text));
    const id = campaignId('auth');
    const body = JSON.stringify(campaignBody(id, 'lists/auth.csv'));
    expect((await startCampaign(s.stack, JSON.parse(body) as Record<string, unknown>)).status).toBe(401);
    const signed = await signedPost(`${s.stack.gateway}/campaigns`, body);
    expect(signed.status, await signed.clone().text()).toBe(202);
    const until = Date.now() + 60_000;
    let issued = 0;
    while (issued < 25 && Date.now() < until) {
      issued = (await ledger(s.stack)).filter((c) => c.requestId.startsWith(`${id}:`)).length;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(issued).toBe(25);
  }, 90_000);
});

describe('a campaign on the Redis stores (each instance connects, as deployed)', () => {
  let s: CampaignStack;
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
    s = await startCampaignStack({
      IDEMPOTENCY_STORE: redis.url,
      EMULATOR_LATENCY_MS: '100',
      CAMPAIGN_CHUNK_SIZE: '500',
    });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    await redis?.stop();
  });

  it('keeps the campaign in Redis: paused, resumed and completed with every recipient issued once', async () => {
    const { text, uids } = csvList(3000, 1918_900_000_000n);
    await s.bucket.put('lists/redis.csv', Buffer.from(text));
    const id = campaignId('redis');
    expect((await startCampaign(s.stack, campaignBody(id, 'lists/redis.csv'))).status).toBe(202);
    await waitForCampaign(s.stack, id, (v) => (v['sent'] as number) > 0 || v['state'] === 'COMPLETED');
    expect((await controlCampaign(s.stack, id, 'pause')).status).toBe(200);
    expect((await controlCampaign(s.stack, id, 'resume')).status).toBe(200);
    const done = await waitForCampaign(s.stack, id, (v) => v['state'] === 'COMPLETED', 120_000);
    expect(done).toMatchObject({ total: 3000, sent: 3000, pending: 0 });
    const issued = (await ledger(s.stack)).filter((c) => c.requestId.startsWith(`${id}:`)).map((c) => c.uid);
    expect(issued.sort()).toEqual([...uids].sort());
  }, 150_000);
});
