/**
 * IDEMPOTENCY_REDIS_WAIT_REPLICAS on real redis-servers: without the replicas it asks for, nothing is sent (a
 * write a failover could lose is not written); with a live replica, every write the delivery relied on is on the
 * replica by the time it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyOf } from '../../lib/idempotency/keys.js';
import { redisIdempotencyStore } from '../../lib/idempotency/redis.js';
import { createRedisClient } from '../../lib/redis/client.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.js';
import { redisCommand, redisHash } from '../helpers/redis-fault-proxy.js';
import { ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

let master: RedisServer;
let stack: Stack;
let replica: ChildProcess | undefined;
let replicaDir: string | undefined;
beforeAll(async () => {
  master = await startRedis();
  stack = await startStack({
    IDEMPOTENCY_STORE: master.url,
    IDEMPOTENCY_REDIS_WAIT_REPLICAS: '1',
    // Generous: a replica on a loaded machine may take a while to acknowledge, and a slow one only delays the refusal.
    IDEMPOTENCY_REDIS_WAIT_TIMEOUT_MS: '2000',
    DAILY_BUDGET: '100',
  });
});
afterAll(async () => {
  await stack?.stop();
  replica?.kill('SIGKILL');
  await master?.stop();
  if (replicaDir) await rm(replicaDir, { recursive: true, force: true });
});

const request = (requestId: string) => ({
  SellerId: 3944837183,
  TemplateId: 295873,
  FromApp: 'redis-wait',
  RequestId: requestId,
  userAmountModelList: [{ uid: 1918000000883, amount: 1 }],
});

/** A replica of `master` on a free port, resolved once the master sees it online. */
async function startReplica(): Promise<number> {
  const port = await freePort();
  // A replica keeps what it syncs in a file of its own directory: a temporary one, never the working tree.
  replicaDir = await mkdtemp(join(tmpdir(), 'redis-replica-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', replicaDir];
  replica = spawn('redis-server', [...args, '--replicaof', '127.0.0.1', String(master.port)], { stdio: 'ignore' });
  const started = replica;
  process.once('exit', () => started.kill('SIGKILL'));
  for (let i = 0; i < 200; i++) {
    const info = String(await redisCommand(master.port, 'INFO', 'replication'));
    if (/slave0:.*state=online/.test(info)) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the replica did not come online');
}

describe('IDEMPOTENCY_REDIS_WAIT_REPLICAS', () => {
  it('fails a store write closed when too few replicas acknowledge it', async () => {
    const client = createRedisClient(master.url);
    try {
      const store = redisIdempotencyStore(client, 'wait:', { replicas: 1, timeoutMs: 50 });
      await expect(
        store.claim('k', {
          hash: 'h',
          chunkSize: 1,
          owner: 'o',
          leaseUntil: Date.now() + 1000,
          now: Date.now(),
          keepForMs: 60_000,
          op: { sellerId: '1', templateId: '2', fromApp: 'a', requestId: 'r', recipients: [] },
        }),
      ).rejects.toThrow(/only 0 of 1 replica/);
    } finally {
      client.disconnect();
    }
  });

  it('sends nothing without the replica, and with it answers only once the replica holds the record', async () => {
    const lonely = rid('wait');
    const refused = await postJson(`${stack.gateway}/coupons`, request(lonely));
    expect([refused.status, refused.json.Code]).toEqual([503, 'IdempotencyStoreUnavailable']);
    expect((await ledger(stack)).filter((c) => c.requestId === lonely)).toHaveLength(0);

    const replicaPort = await startReplica();
    const id = rid('wait');
    const sent = await postJson(`${stack.gateway}/coupons`, request(id));
    expect(sent.json).toMatchObject({ Success: true, userAmountModelList: [{ status: 'SENT' }] });
    const onReplica = await redisHash(replicaPort, `coupon:idem:${keyOf('3944837183', 'redis-wait', id)}`);
    expect(onReplica['status']).toBe('COMPLETED');
    expect(JSON.parse(onReplica['c:1'] ?? '{}')).toMatchObject({ state: 'SENT' });
    expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(1);
  });
});
