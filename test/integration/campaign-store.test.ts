import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCampaignStore } from '../../lib/campaigns/redis-store.js';
import { countsOf, type ChunkOutcome } from '../../lib/campaigns/state.js';
import { memoryCampaignStore, type CampaignStore } from '../../lib/campaigns/store.js';
import { connectRedis, type RedisClient } from '../../lib/redis/connect.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let client: RedisClient;

beforeAll(async () => {
  redis = await startRedis();
  client = await connectRedis(redis.url);
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

let seq = 0;
const newId = () => `camp-${Date.now()}-${++seq}`;
const LIST = 'a'.repeat(64);

describe.each([
  ['memory', () => memoryCampaignStore()],
  ['Redis', () => redisCampaignStore(client)],
])('the %s campaign store', (_name, make: () => CampaignStore) => {
  async function running(chunks: number, total: number) {
    const store = make();
    const id = newId();
    await store.start({ campaignId: id, listSha256: LIST, startedAt: 1_700_000_000_000 });
    await store.finishPlanning(id, { total, totalCents: total * 100, chunks });
    return { store, id };
  }

  it('starts once: the same id and list answer the existing campaign, another list is a conflict', async () => {
    const store = make();
    const id = newId();
    const first = await store.start({ campaignId: id, listSha256: LIST, startedAt: 1 });
    expect(first.outcome).toBe('created');
    expect(first.record).toMatchObject({ campaignId: id, state: 'PLANNING', total: 0, planningDone: false });
    const again = await Promise.all(
      Array.from({ length: 10 }, () => store.start({ campaignId: id, listSha256: LIST, startedAt: 2 })),
    );
    expect(again.map((r) => r.outcome)).toEqual(Array(10).fill('existing'));
    expect(again[0]?.record.startedAt).toBe(1);
    expect((await store.start({ campaignId: id, listSha256: 'b'.repeat(64), startedAt: 3 })).outcome).toBe('conflict');
  });

  it('counts each chunk once however often it finishes, concurrently or later (a retried lost reply included)', async () => {
    const { store, id } = await running(3, 30);
    const outcomes: ChunkOutcome[] = [
      { sent: 10, failed: 0, unknown: 0 },
      { sent: 7, failed: 2, unknown: 1 },
      { sent: 0, failed: 0, unknown: 10 },
    ];
    const deliveries = outcomes.flatMap((o, i) => Array.from({ length: 8 }, () => [i + 1, o] as const));
    const replies = await Promise.all(deliveries.map(([n, o]) => store.recordChunk(id, n, o)));
    expect(replies.filter((r) => r?.counted)).toHaveLength(3);
    // A late duplicate with another outcome changes nothing: the first completion is the chunk's result.
    expect((await store.recordChunk(id, 2, { sent: 10, failed: 0, unknown: 0 }))?.counted).toBe(false);
    const r = await store.get(id);
    if (!r) throw new Error('no record');
    expect(countsOf(r)).toEqual({ total: 30, planned: 0, sent: 17, failed: 2, unknown: 11, pending: 0 });
    expect(r.state).toBe('COMPLETED');
  });

  it('marks each chunk planned once', async () => {
    const { store, id } = await running(2, 1500);
    const marks = await Promise.all([
      ...Array.from({ length: 5 }, () => store.markPlanned(id, 1, 1000)),
      ...Array.from({ length: 5 }, () => store.markPlanned(id, 2, 500)),
    ]);
    expect(marks.filter(Boolean)).toHaveLength(2);
    expect((await store.get(id))?.planned).toBe(1500);
  });

  it('moves PLANNING → RUNNING when planning finishes, and finishing twice changes nothing', async () => {
    const { store, id } = await running(2, 20);
    expect((await store.get(id))?.state).toBe('RUNNING');
    await store.finishPlanning(id, { total: 999, totalCents: 1, chunks: 9 });
    expect(await store.get(id)).toMatchObject({ total: 20, chunks: 2, state: 'RUNNING' });
  });

  it('completes a list of zero chunks as soon as planning finishes', async () => {
    const { store, id } = await running(0, 0);
    expect((await store.get(id))?.state).toBe('COMPLETED');
  });

  it('pauses, resumes and cancels; a final state refuses pause and resume', async () => {
    const { store, id } = await running(2, 20);
    expect(await store.control(id, 'pause')).toMatchObject({ ok: true, state: 'PAUSED' });
    expect(await store.control(id, 'pause')).toMatchObject({ ok: true, state: 'PAUSED' });
    expect(await store.control(id, 'resume')).toMatchObject({ ok: true, state: 'RUNNING' });
    await store.recordChunk(id, 1, { sent: 10, failed: 0, unknown: 0 });
    expect(await store.control(id, 'cancel')).toMatchObject({ ok: true, state: 'CANCELLED' });
    expect(await store.control(id, 'resume')).toMatchObject({ ok: false });
    expect(await store.control(id, 'pause')).toMatchObject({ ok: false });
    // A chunk that was running when the campaign was cancelled is still counted; the state stays final.
    await store.recordChunk(id, 2, { sent: 10, failed: 0, unknown: 0 });
    const r = await store.get(id);
    expect(r).toMatchObject({ state: 'CANCELLED', sent: 20 });
  });

  it('counts each resume once (a resume of a running campaign is no resume) and lists the counted chunks', async () => {
    const { store, id } = await running(3, 30);
    await store.recordChunk(id, 2, { sent: 10, failed: 0, unknown: 0 });
    await store.recordChunk(id, 2, { sent: 10, failed: 0, unknown: 0 });
    expect(await store.countedChunks(id)).toEqual([2]);
    await store.control(id, 'pause');
    await store.control(id, 'resume');
    await store.control(id, 'resume');
    expect((await store.get(id))?.resumes).toBe(1);
    await store.control(id, 'pause');
    await store.control(id, 'cancel');
    expect((await store.get(id))?.resumes).toBe(1);
    expect(await store.countedChunks('no-such-campaign')).toEqual([]);
  });

  it('resumes a campaign paused while planning into PLANNING, and into RUNNING once planning finished', async () => {
    const store = make();
    const id = newId();
    await store.start({ campaignId: id, listSha256: LIST, startedAt: 1 });
    await store.control(id, 'pause');
    expect(await store.control(id, 'resume')).toMatchObject({ state: 'PLANNING' });
    await store.control(id, 'pause');
    await store.finishPlanning(id, { total: 10, totalCents: 1000, chunks: 1 });
    expect((await store.get(id))?.state).toBe('PAUSED');
    expect(await store.control(id, 'resume')).toMatchObject({ state: 'RUNNING' });
  });

  it('completes a paused campaign whose last chunk finishes, and refuses to cancel a completed one', async () => {
    const { store, id } = await running(1, 10);
    await store.control(id, 'pause');
    await store.recordChunk(id, 1, { sent: 10, failed: 0, unknown: 0 });
    expect((await store.get(id))?.state).toBe('COMPLETED');
    expect(await store.control(id, 'cancel')).toMatchObject({ ok: false });
  });

  it('lists the newest campaigns first, from its index', async () => {
    const store = make();
    const ids = [newId(), newId(), newId()];
    // Later than every other test's campaigns, so the newest three are these whatever ran before.
    for (const [i, id] of ids.entries())
      await store.start({ campaignId: id, listSha256: LIST, startedAt: 9_000_000_000_000 + i });
    expect((await store.recent(2)).map((r) => r.campaignId)).toEqual([ids[2], ids[1]]);
    expect((await store.recent(3))[2]).toMatchObject({ campaignId: ids[0], state: 'PLANNING' });
  });

  it('answers nothing for an unknown campaign', async () => {
    const store = make();
    expect(await store.get('nobody')).toBeUndefined();
    expect(await store.recordChunk('nobody', 1, { sent: 1, failed: 0, unknown: 0 })).toBeUndefined();
    expect(await store.markPlanned('nobody', 1, 1)).toBe(false);
    expect(await store.control('nobody', 'pause')).toBeUndefined();
  });
});

describe('the Redis campaign store', () => {
  it('keeps a campaign in one cluster slot under coupon:campaign:', async () => {
    const store = redisCampaignStore(client);
    const id = newId();
    await store.start({ campaignId: id, listSha256: LIST, startedAt: 1 });
    await store.finishPlanning(id, { total: 1, totalCents: 100, chunks: 1 });
    await store.markPlanned(id, 1, 1);
    await store.recordChunk(id, 1, { sent: 1, failed: 0, unknown: 0 });
    const keys = (await client.call('KEYS', `coupon:campaign:{${id}}*`)) as string[];
    expect(keys.sort()).toEqual([
      `coupon:campaign:{${id}}`,
      `coupon:campaign:{${id}}:chunks`,
      `coupon:campaign:{${id}}:planned`,
    ]);
  });

  it('settles on read a campaign whose last chunk was counted by a process that died before settling', async () => {
    const store = redisCampaignStore(client);
    const id = newId();
    await store.start({ campaignId: id, listSha256: LIST, startedAt: 1 });
    await store.finishPlanning(id, { total: 1, totalCents: 100, chunks: 1 });
    await client.call('HSET', `coupon:campaign:{${id}}`, 'sent', '1', 'chunksDone', '1');
    expect((await store.get(id))?.state).toBe('COMPLETED');
  });

  it('counts a chunk once when the reply to its count is lost and the count is retried', async () => {
    const store = redisCampaignStore(client);
    const id = newId();
    await store.start({ campaignId: id, listSha256: LIST, startedAt: 1 });
    await store.finishPlanning(id, { total: 30, totalCents: 3000, chunks: 3 });
    await store.recordChunk(id, 2, { sent: 10, failed: 0, unknown: 0 });
    // A proxy that passes every command to Redis but, once told to, swallows the replies.
    let dropping = false;
    const proxy = net.createServer((down) => {
      const up = net.connect(redis.port, '127.0.0.1');
      down.pipe(up);
      up.on('data', (d: Buffer) => {
        if (!dropping) down.write(d);
      });
      down.on('error', () => up.destroy());
      up.on('error', () => down.destroy());
      down.on('close', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;
    const lossyClient = await connectRedis(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 300 });
    const lossy = redisCampaignStore(lossyClient);
    await lossy.get(id);
    dropping = true;
    await expect(lossy.recordChunk(id, 1, { sent: 10, failed: 0, unknown: 0 })).rejects.toThrow(/redis campaign/);
    expect(await store.get(id)).toMatchObject({ sent: 20, chunksDone: 2 });
    const retried = await store.recordChunk(id, 1, { sent: 10, failed: 0, unknown: 0 });
    expect(retried?.counted).toBe(false);
    expect(await store.get(id)).toMatchObject({ sent: 20, chunksDone: 2, state: 'RUNNING' });
    lossyClient.disconnect();
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  it('fails closed with a store error when Redis is gone', async () => {
    const other = await startRedis();
    const c = await connectRedis(other.url, { commandTimeoutMs: 500, connectTimeoutMs: 500 });
    const store = redisCampaignStore(c);
    await other.stop();
    await expect(store.recordChunk('x', 1, { sent: 1, failed: 0, unknown: 0 })).rejects.toThrow(/redis campaign/);
    c.disconnect();
  });
});
