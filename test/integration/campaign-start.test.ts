import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBucket, type Bucket } from '../../lib/campaigns/bucket.js';
import type { ChunkTask } from '../../lib/campaigns/chunk-operation.js';
import { startCampaign, type CampaignStart, type StartDeps } from '../../lib/campaigns/start.js';
import { memoryCampaignStore, type CampaignStore } from '../../lib/campaigns/store.js';
import { startOssServer, type OssServer } from '../../local/oss/server.js';

const KEY = { accessKeyId: 'LTAIstartkey', accessKeySecret: 'start-secret' };
const list = (n: number, amount = '1.5') =>
  Buffer.from(`uid,amount\n${Array.from({ length: n }, (_, i) => `${1918000000000 + i},${amount}`).join('\n')}\n`);

/** FC's stateful async tasks as far as starting cares: a task id is taken once; reuse is refused (409). */
function fakeFc() {
  const tasks = new Map<string, ChunkTask>();
  let failAfter = Infinity;
  return {
    tasks,
    failAfter(n: number) {
      failAfter = n;
    },
    submit: async (taskId: string, task: ChunkTask) => {
      if (tasks.size >= failAfter) throw new Error('the planner died');
      if (tasks.has(taskId)) return 'exists' as const;
      tasks.set(taskId, task);
      return 'submitted' as const;
    },
  };
}

describe('starting a campaign', () => {
  let server: OssServer;
  let bucket: Bucket;
  let seq = 0;

  beforeAll(async () => {
    server = await startOssServer({ buckets: ['lists'], credentials: [KEY] });
    bucket = await openBucket({ endpoint: server.url, region: 'oss-cn-hangzhou', bucket: 'lists', ...KEY });
  });
  afterAll(async () => {
    await server.close();
  });

  async function setUp(body: Buffer) {
    const key = `start/${++seq}.csv`;
    await bucket.put(key, body);
    const start: CampaignStart = {
      campaignId: `camp-${seq}`,
      sellerId: { digits: '3944837183', kind: 'number' },
      templateId: { digits: '295873', kind: 'number' },
      fromApp: 'campaigns',
      bucket: 'lists',
      key,
    };
    return start;
  }

  const depsFor = (store: CampaignStore, fc: ReturnType<typeof fakeFc>, over: Partial<StartDeps> = {}): StartDeps => ({
    bucket,
    store,
    submit: fc.submit,
    maxCouponAmount: 10000,
    remainingBudgetCents: async () => undefined,
    now: () => 1_700_000_000_000,
    chunkSize: 10,
    ...over,
  });

  it('plans, records and submits every chunk once with its stateful task id', async () => {
    const start = await setUp(list(35));
    const store = memoryCampaignStore();
    const fc = fakeFc();
    const outcome = await startCampaign(start, depsFor(store, fc));
    expect(outcome).toMatchObject({ kind: 'started', submitted: 4, plan: { total: 35, chunks: 4 } });
    expect([...fc.tasks.keys()]).toEqual([1, 2, 3, 4].map((n) => `${start.campaignId}-c${n}`));
    expect(await store.get(start.campaignId)).toMatchObject({ state: 'RUNNING', total: 35, planned: 35, chunks: 4 });
    expect(fc.tasks.get(`${start.campaignId}-c1`)?.campaign).toMatchObject({ key: start.key, format: 'csv' });
  });

  it('answers the existing campaign for the same id and list, and 422 for another list', async () => {
    const start = await setUp(list(12));
    const store = memoryCampaignStore();
    const fc = fakeFc();
    await startCampaign(start, depsFor(store, fc));
    const again = await startCampaign(start, depsFor(store, fc));
    expect(again).toMatchObject({ kind: 'existing', submitted: 0 });
    expect((await store.get(start.campaignId))?.planned).toBe(12);
    await bucket.put(start.key, list(13));
    expect(await startCampaign(start, depsFor(store, fc))).toMatchObject({
      kind: 'refused',
      status: 422,
      code: 'IdempotencyKeyReused',
    });
  });

  it('carries on after a crash mid-submission: each chunk submitted once, planned counted once', async () => {
    const start = await setUp(list(50));
    const store = memoryCampaignStore();
    const fc = fakeFc();
    fc.failAfter(2);
    await expect(startCampaign(start, depsFor(store, fc))).rejects.toThrow('the planner died');
    expect((await store.get(start.campaignId))?.planned).toBe(20);
    fc.failAfter(Infinity);
    const resumed = await startCampaign(start, depsFor(store, fc));
    expect(resumed).toMatchObject({ kind: 'existing', submitted: 3 });
    expect(fc.tasks.size).toBe(5);
    expect(await store.get(start.campaignId)).toMatchObject({ planned: 50, total: 50 });
  });

  it('submits nothing more while paused, and the rest once resumed', async () => {
    const start = await setUp(list(30));
    const store = memoryCampaignStore();
    const fc = fakeFc();
    let calls = 0;
    const pausing = async (taskId: string, task: ChunkTask) => {
      if (++calls === 1) await store.control(start.campaignId, 'pause');
      return fc.submit(taskId, task);
    };
    expect(await startCampaign(start, depsFor(store, fc, { submit: pausing }))).toMatchObject({ submitted: 1 });
    expect(await store.get(start.campaignId)).toMatchObject({ state: 'PAUSED', planned: 10 });
    await store.control(start.campaignId, 'resume');
    expect(await startCampaign(start, depsFor(store, fc))).toMatchObject({ kind: 'existing', submitted: 2 });
    expect(fc.tasks.size).toBe(3);
  });

  it("refuses with the numbers a list over the campaign cap or today's budget, recording nothing", async () => {
    const start = await setUp(list(20, '100'));
    const store = memoryCampaignStore();
    const fc = fakeFc();
    const overBudget = await startCampaign(start, depsFor(store, fc, { remainingBudgetCents: async () => 150_000 }));
    expect(overBudget).toMatchObject({ kind: 'refused', status: 422, code: 'BudgetExceeded' });
    expect(overBudget.kind === 'refused' && overBudget.message).toBe(
      "the list totals 2000 for 20 recipients; today's remaining budget is 1500",
    );
    const overCap = await startCampaign(start, depsFor(store, fc, { maxCampaignCents: 100_000 }));
    expect(overCap).toMatchObject({ kind: 'refused', code: 'CampaignOverLimit' });
    expect(await store.get(start.campaignId)).toBeUndefined();
    expect(fc.tasks.size).toBe(0);
  });

  it.each([
    ['no header', Buffer.from('1,1\n'), 'InvalidList'],
    ['no valid recipient', Buffer.from('uid,amount\n0,1\n'), 'InvalidList'],
  ])('refuses a list with %s (400), naming the invalid lines', async (_name, body, code) => {
    const start = await setUp(body);
    const outcome = await startCampaign(start, depsFor(memoryCampaignStore(), fakeFc()));
    expect(outcome).toMatchObject({ kind: 'refused', status: 400, code });
  });

  it('refuses a CampaignId that could not name its chunks', async () => {
    const start = await setUp(list(1));
    const outcome = await startCampaign(
      { ...start, campaignId: 'has space' },
      depsFor(memoryCampaignStore(), fakeFc()),
    );
    expect(outcome).toMatchObject({ kind: 'refused', status: 400, code: 'InvalidParameter' });
  });
});
