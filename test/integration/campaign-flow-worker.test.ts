import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBucket } from '../../lib/campaigns/bucket.js';
import type { ChunkTask } from '../../lib/campaigns/chunk-operation.js';
import type { ChunkPlan } from '../../lib/campaigns/chunk.js';
import { planList } from '../../lib/campaigns/plan.js';
import type { CampaignServices } from '../../lib/campaigns/services.js';
import { campaignSettings } from '../../lib/campaigns/settings.js';
import { memoryCampaignStore } from '../../lib/campaigns/store.js';
import { runChunk } from '../../lib/campaigns/worker.js';
import { createMemoryStore } from '../../lib/idempotency/memory.js';
import type { Runtime } from '../../lib/runtime.js';
import { startOssServer, type OssServer } from '../../local/oss/server.js';
import { executorContext, ok, uidOf, type Scripted } from '../helpers/executor.js';

const KEY = { accessKeyId: 'LTAIworkerkey', accessKeySecret: 'worker-secret' };
const LIST = Buffer.from(`uid,amount\n${Array.from({ length: 6 }, (_, i) => `${1918000000000 + i},2`).join('\n')}\n`);

describe('the chunk worker', () => {
  let server: OssServer;
  let chunks: ChunkPlan[];
  let seq = 0;

  beforeAll(async () => {
    server = await startOssServer({ buckets: ['coupon-campaigns'], credentials: [KEY] });
    const bucket = await openBucket({
      endpoint: server.url,
      region: 'oss-cn-hangzhou',
      bucket: 'coupon-campaigns',
      ...KEY,
    });
    await bucket.put('lists/w.csv', LIST);
    await bucket.put('lists/changed.csv', Buffer.from(LIST.toString().replace('1918000000004,2', '1918000000004,3')));
    chunks = [];
    await planList(await bucket.getStream('lists/w.csv'), {
      maxCouponAmount: 10000,
      chunkSize: 3,
      onChunk: (c) => void chunks.push(c),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  /** A worker on the bucket server, a memory campaign store and a scripted upstream. */
  async function setUp(answers: Scripted[], state?: 'PAUSED' | 'CANCELLED') {
    const campaignId = `w-${++seq}`;
    const campaigns = memoryCampaignStore();
    await campaigns.start({ campaignId, listSha256: 'x', startedAt: 0 });
    await campaigns.finishPlanning(campaignId, { total: 6, totalCents: 1200, chunks: 2 });
    if (state) await campaigns.control(campaignId, state === 'PAUSED' ? 'pause' : 'cancel');
    const ctx = executorContext(createMemoryStore(), answers, {
      config: { ...executorContext(createMemoryStore(), []).config, chunkSize: 1 },
    });
    const env = { OSS_ENDPOINT: server.url, OSS_BUCKET: 'coupon-campaigns' };
    const runtime: Runtime = { ...ctx, env, logger: ctx.logger, quota: { limiter: () => ctx.limiter } };
    const services: CampaignServices = {
      runtime,
      settings: campaignSettings(env),
      store: campaigns,
      bucket: (name) => openBucket({ endpoint: server.url, region: 'oss-cn-hangzhou', bucket: name, ...KEY }),
      submit: async () => 'submitted',
    };
    const task = (n: number, key = 'lists/w.csv'): ChunkTask => ({
      campaign: {
        campaignId,
        sellerId: { digits: '3944837183', kind: 'number' },
        templateId: { digits: '295873', kind: 'number' },
        fromApp: 'campaigns',
        bucket: 'coupon-campaigns',
        key,
        format: 'csv',
      },
      chunk: chunks[n - 1] as ChunkPlan,
    });
    const run = (t: ChunkTask, deadline = Date.now() + 60_000) =>
      runChunk(t, services, { context: { requestId: 'r', credentials: KEY }, deadline, logger: ctx.logger });
    return { campaignId, campaigns, ctx, services, task, run };
  }

  const sends = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ok(String(1918000000000 + from + i), String(7000 + from + i)));

  it('counts a chunk once however often it is delivered, replaying the second from the idempotency store', async () => {
    const w = await setUp(sends(0, 3));
    expect(await w.run(w.task(1))).toMatchObject({ n: 1, sent: 3, counted: true });
    expect(await w.run(w.task(1))).toMatchObject({ n: 1, sent: 3, counted: false });
    expect(w.ctx.calls.map(uidOf)).toEqual(['1918000000000', '1918000000001', '1918000000002']);
    expect(await w.campaigns.get(w.campaignId)).toMatchObject({ sent: 3, chunksDone: 1, state: 'RUNNING' });
    const results = await (
      await w.services.bucket('coupon-campaigns')
    ).getStream(`campaigns/${w.campaignId}/results/000001.jsonl`);
    const parts: Buffer[] = [];
    for await (const p of results) parts.push(Buffer.from(p as Uint8Array));
    expect(Buffer.concat(parts).toString().trim().split('\n')).toHaveLength(3);
  });

  it('sends nothing for a paused campaign and leaves the chunk uncounted for the resume', async () => {
    const w = await setUp([], 'PAUSED');
    expect(await w.run(w.task(2))).toEqual({ n: 2, stopped: 'PAUSED' });
    expect(w.ctx.calls).toHaveLength(0);
    expect(await w.campaigns.countedChunks(w.campaignId)).toEqual([]);
  });

  it('in a cancelled campaign, counts the chunk with nothing more sent: its recipients stay pending for good', async () => {
    const w = await setUp([], 'CANCELLED');
    expect(await w.run(w.task(2))).toMatchObject({ n: 2, sent: 0, failed: 0, unknown: 0, owed: 3, counted: true });
    expect(w.ctx.calls).toHaveLength(0);
    expect(await w.campaigns.get(w.campaignId)).toMatchObject({ state: 'CANCELLED', sent: 0, chunksDone: 1 });
  });

  it('refuses a chunk of a list changed after planning: nothing sent, its recipients counted failed once', async () => {
    const w = await setUp([]);
    const changed = w.task(2, 'lists/changed.csv');
    expect(await w.run(changed)).toMatchObject({
      n: 2,
      counted: true,
      refused: expect.stringContaining('does not match'),
    });
    expect(await w.run(changed)).toMatchObject({ counted: false });
    expect(w.ctx.calls).toHaveLength(0);
    expect(await w.campaigns.get(w.campaignId)).toMatchObject({ failed: 3, sent: 0, chunksDone: 1 });
  });

  it('fails a chunk left owed by the deadline, so FC retries it, and counts it once the retry finishes it', async () => {
    const w = await setUp(sends(3, 3));
    await expect(w.run(w.task(2), Date.now() + 500)).rejects.toThrow(/owed/);
    expect(await w.campaigns.countedChunks(w.campaignId)).toEqual([]);
    expect(await w.run(w.task(2))).toMatchObject({ sent: 3, counted: true });
    expect(w.ctx.calls).toHaveLength(3);
  });

  it('answers a chunk of an unknown campaign without sending', async () => {
    const w = await setUp([]);
    const t = w.task(1);
    expect(await w.run({ ...t, campaign: { ...t.campaign, campaignId: 'nobody' } })).toEqual({
      n: 1,
      skipped: 'UNKNOWN_CAMPAIGN',
    });
    expect(w.ctx.calls).toHaveLength(0);
  });
});
