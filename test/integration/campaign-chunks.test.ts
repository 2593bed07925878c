import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBucket, type Bucket } from '../../lib/campaigns/bucket.js';
import {
  chunkOperation,
  chunkTaskId,
  ChunkTaskError,
  loadChunkOperation,
  type CampaignParams,
  type ChunkTask,
} from '../../lib/campaigns/chunk-operation.js';
import { ChunkMismatch, type ChunkPlan } from '../../lib/campaigns/chunk.js';
import { planList } from '../../lib/campaigns/plan.js';
import { outcomeOf } from '../../lib/campaigns/state.js';
import { memoryCampaignStore } from '../../lib/campaigns/store.js';
import { createMemoryStore } from '../../lib/idempotency/memory.js';
import { executeOperation } from '../../lib/send/execute.js';
import { startOssServer, type OssServer } from '../../local/oss/server.js';
import { executorContext, ok, uidOf } from '../helpers/executor.js';

const KEY = { accessKeyId: 'LTAIcampaignkey', accessKeySecret: 'campaign-secret' };
const LIMITS = { maxCouponAmount: 10000, maxRecipients: 10000 };

// 25 lines: uids 1..23 valid, a bad amount on line 5, uid 3 again on line 20.
const lines = Array.from({ length: 23 }, (_, i) => `${1918000000000 + i + 1},${(i % 5) + 1}.5`);
lines.splice(3, 0, '1918000000099,0.001');
lines.splice(18, 0, '1918000000003,1');
const LIST = Buffer.from(`uid,amount\r\n${lines.join('\r\n')}`);

describe('campaign chunks from the bucket', () => {
  let server: OssServer;
  let bucket: Bucket;
  let chunks: ChunkPlan[];
  let campaign: CampaignParams;

  beforeAll(async () => {
    server = await startOssServer({ buckets: ['lists'], credentials: [KEY] });
    bucket = await openBucket({ endpoint: server.url, region: 'oss-cn-hangzhou', bucket: 'lists', ...KEY });
    await bucket.put('c1/list.csv', LIST);
    chunks = [];
    const plan = await planList(await bucket.getStream('c1/list.csv'), {
      maxCouponAmount: LIMITS.maxCouponAmount,
      chunkSize: 10,
      onChunk: (c) => void chunks.push(c),
    });
    expect(plan).toMatchObject({ total: 23, invalidCount: 2, chunks: 3 });
    campaign = {
      campaignId: 'spring-2026',
      sellerId: { digits: '3944837183', kind: 'number' },
      templateId: { digits: '295873', kind: 'number' },
      fromApp: 'campaigns',
      bucket: 'lists',
      key: 'c1/list.csv',
      format: plan.format,
    };
  });
  afterAll(async () => {
    await server.close();
  });

  it('turns each chunk into an ordinary operation <CampaignId>:<n> of exactly its recipients, by ranged reads', async () => {
    const ops = await Promise.all(chunks.map((chunk) => loadChunkOperation(bucket, { campaign, chunk }, LIMITS)));
    expect(ops.map((o) => o.requestId)).toEqual(['spring-2026:1', 'spring-2026:2', 'spring-2026:3']);
    expect(chunks.map((c) => chunkTaskId(campaign.campaignId, c.n))).toEqual([
      'spring-2026-c1',
      'spring-2026-c2',
      'spring-2026-c3',
    ]);
    const uids = ops.flatMap((o) => o.recipients.map((r) => r.uid.digits));
    expect(uids).toEqual(Array.from({ length: 23 }, (_, i) => String(1918000000000 + i + 1)));
    expect(ops[0]).toMatchObject({ sellerId: campaign.sellerId, templateId: campaign.templateId, form: 'flat' });
  });

  it('executes a chunk once: a retried chunk is replayed from the idempotency store and counted once', async () => {
    const store = createMemoryStore();
    const campaigns = memoryCampaignStore();
    await campaigns.start({ campaignId: campaign.campaignId, listSha256: 'x', startedAt: 0 });
    await campaigns.finishPlanning(campaign.campaignId, { total: 23, totalCents: 0, chunks: 3 });
    const [first] = chunks;
    if (!first) throw new Error('no chunk');
    const op = await loadChunkOperation(bucket, { campaign, chunk: first }, LIMITS);
    const answers = op.recipients.map((r, i) => ok(r.uid.digits, String(9000 + i)));
    const ctx = executorContext(store, answers);
    const run = await executeOperation(op, ctx);
    const retryCtx = executorContext(store, []);
    const retry = await executeOperation(
      await loadChunkOperation(bucket, { campaign, chunk: first }, LIMITS),
      retryCtx,
    );
    expect(retry.replayed).toBe(true);
    expect(retryCtx.calls).toHaveLength(0);
    expect(ctx.calls.map(uidOf)).toEqual(op.recipients.map((r) => r.uid.digits));
    for (const done of [run, retry])
      await campaigns.recordChunk(campaign.campaignId, first.n, outcomeOf(done.results.map((r) => r.status)));
    expect(await campaigns.get(campaign.campaignId)).toMatchObject({ sent: 10, chunksDone: 1, state: 'RUNNING' });
  });

  it('refuses a chunk of a list replaced after planning, sending nothing', async () => {
    const [, second] = chunks;
    if (!second) throw new Error('no chunk');
    await bucket.put('c1/replaced.csv', Buffer.from(LIST.toString().replace('1918000000012,', '1918000000666,')));
    const task: ChunkTask = { campaign: { ...campaign, key: 'c1/replaced.csv' }, chunk: second };
    await expect(loadChunkOperation(bucket, task, LIMITS)).rejects.toThrow(ChunkMismatch);
  });

  it('refuses a task whose CampaignId could not make a valid RequestId', () => {
    const [first] = chunks;
    if (!first) throw new Error('no chunk');
    const task = { campaign: { ...campaign, campaignId: 'a'.repeat(49) }, chunk: first };
    expect(() => chunkOperation(task, LIST.subarray(first.start, first.end), LIMITS)).toThrow(ChunkTaskError);
    expect(() =>
      chunkOperation({ campaign, chunk: first }, LIST.subarray(first.start, first.end), {
        ...LIMITS,
        maxRecipients: 5,
      }),
    ).toThrow('MAX_RECIPIENTS');
  });
});
