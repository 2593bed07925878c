/**
 * The holes a review found in the exactly-once protocol, each closed and pinned here on the memory store and on
 * a real redis-server: a record that outlives its TTL while a delivery runs, a lease that follows progress, a
 * lost claim reply, a call that would start after the deadline, and the answers of a takeover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationKey } from '../../lib/idempotency/keys.js';
import { createMemoryStore } from '../../lib/idempotency/memory.js';
import { createRedisStore } from '../../lib/idempotency/redis.js';
import type { IdempotencyStore } from '../../lib/idempotency/types.js';
import type { UpstreamCall } from '../../lib/resellertrade/client.js';
import { executeOperation } from '../../lib/send/execute.js';
import { operation, recipient, sent } from '../fixtures/operations.js';
import { executorContext, never, ok, throttled, uidOf } from '../helpers/executor.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
const opened: IdempotencyStore[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const s of opened) await s.close();
  await redis.stop();
});

let n = 0;
const stores: Record<string, () => Promise<IdempotencyStore>> = {
  memory: async () => createMemoryStore(),
  redis: async () => {
    const s = await createRedisStore(redis.url, { prefix: `eo${process.pid}-${++n}:` });
    opened.push(s);
    return s;
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const three = operation({
  requestId: 'eo-op',
  recipients: [recipient('10', 1), recipient('11', 2), recipient('12', 3)],
});

/** Waits until the store shows chunk `n` in `state` (the delivery under test got that far). */
async function until(store: IdempotencyStore, key: string, chunk: number, state: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await store.get(key))?.chunks[chunk]?.state === state) return;
    await sleep(5);
  }
  throw new Error(`chunk ${chunk} never became ${state}`);
}

describe.each(Object.keys(stores))('exactly once on the %s store', (name) => {
  const open = () => (stores[name] as () => Promise<IdempotencyStore>)();

  it('keeps the record while a delivery runs, however short the TTL: a redelivery meanwhile sends nothing', async () => {
    const store = await open();
    const op = operation({ requestId: `ttl-${name}` });
    const slow = async (form: string) => {
      await sleep(600);
      return ok(uidOf(form) ?? '', '1');
    };
    const first = executeOperation(
      op,
      executorContext(store, [slow, ok('11', '2')], {
        config: { ...executorContext(store, []).config, chunkSize: 1, chunkConcurrency: 1, idempotencyTtlSeconds: 0.2 },
      }),
    );
    await sleep(400);
    const meanwhile = executorContext(store, []);
    await expect(executeOperation(op, meanwhile)).rejects.toMatchObject({ code: 'RequestInProgress', status: 409 });
    expect(meanwhile.calls).toHaveLength(0);
    expect((await first).verdict.success).toBe(true);
  });

  it('takes a claim answered with its own owner token (a lost reply, the claim resent) as acquired', async () => {
    const inner = await open();
    const store: IdempotencyStore = {
      ...inner,
      claim: async (key, request) => {
        await inner.claim(key, request);
        return inner.claim(key, request);
      },
    };
    const ctx = executorContext(store, [ok('10', '1'), ok('11', '2')]);
    const out = await executeOperation(operation({ requestId: `dup-claim-${name}` }), ctx);
    expect(out.results).toEqual([sent('1'), sent('2')]);
    expect(ctx.calls).toHaveLength(2);
  });

  it('holds SENDING in the store during every attempt, the retry included', async () => {
    const store = await open();
    const op = operation({ requestId: `sending-${name}`, recipients: [recipient('10', 1)] });
    const seen: Array<string | undefined> = [];
    const probe = (answer: UpstreamCall) => async () => {
      seen.push((await store.get(operationKey(op)))?.chunks[1]?.state);
      return answer;
    };
    await executeOperation(op, executorContext(store, [probe(throttled), probe(ok('10', '1'))]));
    expect(seen).toEqual(['SENDING', 'SENDING']);
  });

  it('never starts a call after the deadline: a slow SENDING write leaves the chunk owed, not UNKNOWN', async () => {
    const inner = await open();
    let clock = 1_000_000;
    const store: IdempotencyStore = {
      ...inner,
      putChunk: async (key, owner, chunk, record, renewal) => {
        if (record.state === 'SENDING') clock += 1_500;
        return inner.putChunk(key, owner, chunk, record, renewal);
      },
    };
    const op = operation({ requestId: `late-${name}`, recipients: [recipient('10', 1)] });
    const ctx = executorContext(store, [], { now: () => clock, deadline: clock + 2_000 });
    const out = await executeOperation(op, ctx);
    expect(ctx.calls).toHaveLength(0);
    expect(out.results[0]).toMatchObject({ status: 'FAILED', code: 'NotAttempted', retryable: true });
    expect((await inner.get(operationKey(op)))?.chunks[1]?.state).toBe('PENDING');
  });

  it('lets a redelivery take over soon after a crash mid-call, at EventBridge retry intervals: UNKNOWN, never re-sent', async () => {
    const store = await open();
    const op = operation({ requestId: `crash-${name}` });
    let clock = 5_000_000;
    const now = () => clock;
    // An event function: 600 s timeout. The delivery "crashes" while chunk 1's call is in flight.
    const crashed = executorContext(store, [never], { now, deadline: clock + 600_000, timeoutMs: 10_000 });
    void executeOperation(op, crashed);
    await until(store, operationKey(op), 1, 'SENDING');

    clock += 12_000; // EventBridge BACKOFF_RETRY: first retry 10-20 s later
    await expect(
      executeOperation(op, executorContext(store, [], { now, deadline: clock + 600_000 })),
    ).rejects.toMatchObject({
      code: 'RequestInProgress',
    });
    clock += 15_000; // the second retry, 10-20 s after the first
    const redelivery = executorContext(store, [ok('11', '2')], { now, deadline: clock + 600_000 });
    const out = await executeOperation(op, redelivery);
    expect(out.results[0]).toMatchObject({ status: 'UNKNOWN', code: 'InterruptedDelivery' });
    expect(out.results[1]).toEqual(sent('2'));
    expect(crashed.calls.map(uidOf)).toEqual(['10']);
    expect(redelivery.calls.map(uidOf)).toEqual(['11']);
    const replay = executorContext(store, [], { now });
    expect((await executeOperation(op, replay)).results.map((r) => r.status)).toEqual(['UNKNOWN', 'SENT']);
    expect(replay.calls).toHaveLength(0);
  });

  it('answers both deliveries of a takeover from every chunk record they can see', async () => {
    const store = await open();
    let clock = 9_000_000;
    const now = () => clock;
    let release: (answer: UpstreamCall) => void = () => undefined;
    const held = () => new Promise<UpstreamCall>((resolve) => (release = resolve));
    const first = executorContext(store, [ok('10', '1'), held], { now, deadline: clock + 600_000 });
    const firstAnswer = executeOperation(three, first);
    await until(store, operationKey(three), 2, 'SENDING');

    clock += 60_000;
    const second = executorContext(store, [ok('12', '3')], { now, deadline: clock + 600_000 });
    const secondAnswer = await executeOperation(three, second);
    expect(secondAnswer.results.map((r) => r.status)).toEqual(['SENT', 'UNKNOWN', 'SENT']);

    release(ok('11', '2'));
    const late = await firstAnswer;
    expect(late.results).toEqual([sent('1'), sent('2'), sent('3')]);
    expect([...first.calls, ...second.calls].map(uidOf)).toEqual(['10', '11', '12']);
  });
});
