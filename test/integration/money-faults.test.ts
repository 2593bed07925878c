/**
 * Money under Redis faults, end to end: the local stack (gateway, functions, ResellerTrade emulator over HTTP)
 * on a real redis-server behind the fault-injecting proxy. Whatever reply or write is lost, no coupon is issued
 * twice, the daily budget is never exceeded, its counter equals what was SENT or may have been (UNKNOWN), and the
 * records stay true: no chunk left SENDING that was never sent, no operation COMPLETED over a chunk not recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetDay } from '../../lib/guardrails/budget-day.js';
import { keyOf } from '../../lib/idempotency/keys.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import {
  redisCommand,
  redisHash,
  scriptCall,
  startRedisFaultProxy,
  type RedisFaultProxy,
} from '../helpers/redis-fault-proxy.js';
import { fault, ledger, postJson, rid, startStack, type Answer, type Stack } from '../helpers/stack.js';

const FROM_APP = 'money-faults';
let nextSeller = 3_944_837_100;
let nextUid = 1_918_000_100_000;

interface Op {
  seller: number;
  requestId: string;
  body: Record<string, unknown>;
}
const operation = (seller: number, amounts: number[], requestId = rid('money')): Op => ({
  seller,
  requestId,
  body: {
    SellerId: seller,
    TemplateId: 295873,
    FromApp: FROM_APP,
    RequestId: requestId,
    userAmountModelList: amounts.map((amount) => ({ uid: ++nextUid, amount })),
  },
});

let redis: RedisServer;
let proxy: RedisFaultProxy;
let stack: Stack;
let STACK_ENV: Record<string, string>;
beforeAll(async () => {
  redis = await startRedis();
  proxy = await startRedisFaultProxy(redis.port);
  STACK_ENV = {
    IDEMPOTENCY_STORE: proxy.url,
    DAILY_BUDGET: '100',
    CHUNK_SIZE: '1',
    CHUNK_CONCURRENCY: '1',
    UPSTREAM_MAX_ATTEMPTS: '2',
    UPSTREAM_TIMEOUT_MS: '3000',
  };
  stack = await startStack(STACK_ENV);
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await redis?.stop();
});

const sendTo = (to: Stack, op: Op): Promise<Answer> => postJson(`${to.gateway}/coupons`, op.body);
const send = (op: Op): Promise<Answer> => sendTo(stack, op);
const issued = async (op: Op, on = stack) => (await ledger(on)).filter((c) => c.requestId.startsWith(op.requestId));
const issuedToSeller = async (seller: number, on = stack) =>
  (await ledger(on)).filter((c) => c.sellerId === String(seller));
const cents = (amounts: Array<number | string>) => amounts.reduce<number>((s, a) => s + Math.round(Number(a) * 100), 0);

/** The day's budget counter of a seller, in cents, read from the real redis-server. */
async function budgetCounter(seller: number): Promise<number> {
  const day = budgetDay(Date.now(), 'Asia/Shanghai');
  return Number((await redisCommand(redis.port, 'GET', `coupon:budget:{${seller}:${day}}`)) ?? 0);
}

/** The operation's idempotency record as the real redis-server holds it. */
async function record(op: Op): Promise<{ status?: string; chunks: Record<string, { state: string }> }> {
  const hash = await redisHash(redis.port, `coupon:idem:${keyOf(String(op.seller), FROM_APP, op.requestId)}`);
  const chunks: Record<string, { state: string }> = {};
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('c:')) chunks[field.slice(2)] = JSON.parse(value) as { state: string };
  }
  return { ...(hash['status'] === undefined ? {} : { status: hash['status'] }), chunks };
}

/** Sum of the amounts the answers call SENT or UNKNOWN: what the budget must hold, to the cent. */
function countedCents(op: Op, answer: Answer): number {
  const list = (answer.json?.userAmountModelList ?? []) as Array<{ status: string }>;
  const amounts = (op.body['userAmountModelList'] as Array<{ amount: number }>).map((r) => r.amount);
  return cents(amounts.filter((_, i) => list[i]?.status === 'SENT' || list[i]?.status === 'UNKNOWN'));
}

/** A budget script (two keys: counter and reservations) for the seller's day, RESERVE or RELEASE by arity. */
const budgetScript = (seller: number, kind: 'reserve' | 'release') => (cmd: readonly string[]) => {
  const call = scriptCall(cmd);
  return (
    call !== undefined &&
    call.keys.length === 2 &&
    (call.keys[0] ?? '').startsWith(`coupon:budget:{${seller}:`) &&
    call.args.length === (kind === 'reserve' ? 5 : 2)
  );
};

/** A chunk write (the idempotency store's script) carrying this state for this upstream RequestId. */
const chunkWrite = (state: string, upstreamRequestId: string) => (cmd: readonly string[]) => {
  const call = scriptCall(cmd);
  return (
    call !== undefined &&
    (call.keys[0] ?? '').startsWith('coupon:idem:') &&
    call.args.some((a) => a.includes(`"state":"${state}"`) && a.includes(`"upstreamRequestId":"${upstreamRequestId}"`))
  );
};

const recipients = (a: Answer) => (a.json?.userAmountModelList ?? []) as Array<Record<string, unknown>>;

/**
 * Sends, and delivers again while the instance's pacing has no slot for it yet (a throttle with Retry-After holds
 * it back a few seconds: 503 NotAttempted, nothing sent).
 */
async function sendWhenPaced(to: Stack, op: Op): Promise<Answer> {
  let answer = await sendTo(to, op);
  for (let i = 0; i < 20 && answer.status === 503 && answer.json?.Code === 'NotAttempted'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    answer = await sendTo(to, op);
  }
  return answer;
}

/** Delivers the operation again until its record is completed (a replay); the last answer. */
async function deliverUntilReplayed(op: Op, tries = 4): Promise<Answer> {
  let answer = await send(op);
  for (let i = 1; i < tries && answer.headers.get('idempotent-replayed') !== 'true'; i++) {
    if (answer.status === 409) await new Promise((r) => setTimeout(r, 500));
    answer = await send(op);
  }
  return answer;
}

describe('the daily budget when a RELEASE reply is lost', () => {
  // A short function timeout: an hour's Retry-After (capped at 5 s) leaves the chunk owed past the deadline.
  let short: Stack;
  beforeAll(async () => {
    short = await startStack({ ...STACK_ENV, FUNCTION_TIMEOUT_SECONDS: '4' });
  });
  afterAll(async () => {
    await short?.stop();
  });

  it('gives a chunk throttled past its deadline back once: the budget is never exceeded, and its counter equals SENT + UNKNOWN', async () => {
    const seller = ++nextSeller;
    const answers: Array<[Op, Answer]> = [];
    const first = operation(seller, [30]);
    answers.push([first, await sendTo(short, first)]);
    expect(answers[0]?.[1].json).toMatchObject({ Success: true });

    // Throttled with an hour's Retry-After: owed past the deadline, its reservation given back, the reply lost.
    await fault(short, { mode: 'throttle', count: 1, headers: { 'Retry-After': '3600' } });
    const released = proxy.inject({ match: budgetScript(seller, 'release'), action: 'drop-reply' });
    const throttled = operation(seller, [30]);
    const refused = await sendTo(short, throttled);
    answers.push([throttled, refused]);
    expect(released.fired).toBe(1);
    expect([refused.status, refused.json.Code]).toEqual([429, 'Throttling.User']);
    expect(await issued(throttled, short)).toHaveLength(0);
    expect(await budgetCounter(seller)).toBe(3000);

    // An upstream 500: the chunk may have been issued (UNKNOWN), so it stays counted.
    await fault(short, { mode: 'error', status: 500, count: 1 });
    const unknown = operation(seller, [10]);
    const maybe = await sendWhenPaced(short, unknown);
    answers.push([unknown, maybe]);
    expect(recipients(maybe)).toMatchObject([{ status: 'UNKNOWN' }]);
    expect(await budgetCounter(seller)).toBe(4000);

    // Spend the rest, 10 at a time, until the budget refuses.
    for (let i = 0; i < 12; i++) {
      const op = operation(seller, [10]);
      const a = await sendWhenPaced(short, op);
      answers.push([op, a]);
      if (a.status === 422) {
        expect(a.json.Code).toBe('Guardrail.DailyBudget');
        break;
      }
    }
    const spent = await issuedToSeller(seller, short);
    expect(cents(spent.map((c) => c.amount))).toBe(9000);
    const counted = answers.reduce((s, [op, a]) => s + countedCents(op, a), 0);
    expect(await budgetCounter(seller)).toBe(counted);
    expect(counted).toBe(10000);
  });

  it('keeps an upstream business refusal FAILED with its own Code, and gives its reservation back', async () => {
    const seller = ++nextSeller;
    await fault(stack, { mode: 'business-error', count: 1 });
    const released = proxy.inject({ match: budgetScript(seller, 'release'), action: 'drop-reply' });
    const op = operation(seller, [40]);
    const a = await send(op);
    expect(released.fired).toBe(1);
    expect([a.status, a.json.Code]).toEqual([422, 'COUPON_TEMPLATE_INVALID']);
    const replay = await send(op);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect([replay.status, replay.json.Code]).toEqual([422, 'COUPON_TEMPLATE_INVALID']);
    expect((await record(op)).chunks['1']).toMatchObject({ state: 'FAILED', code: 'COUPON_TEMPLATE_INVALID' });
    expect(await issued(op)).toHaveLength(0);
    expect(await budgetCounter(seller)).toBe(0);
    expect(stack.logs.some((l) => l.includes('"Code":"BudgetReleaseFailed"'))).toBe(false);
  });

  it('counts a chunk once when the reply to its RESERVE is lost', async () => {
    const seller = ++nextSeller;
    const reserved = proxy.inject({ match: budgetScript(seller, 'reserve'), action: 'drop-reply' });
    const op = operation(seller, [25]);
    const first = await send(op);
    expect(reserved.fired).toBe(1);
    expect(first.status).not.toBe(500);
    const last = await deliverUntilReplayed(op);
    expect(recipients(last)).toMatchObject([{ status: 'SENT' }]);
    expect(await issued(op)).toHaveLength(1);
    expect(await budgetCounter(seller)).toBe(2500);
  });

  it('accepts reservations that exactly fill DAILY_BUDGET on Redis, and refuses one cent more', async () => {
    const seller = ++nextSeller;
    expect((await send(operation(seller, [60]))).json).toMatchObject({ Success: true });
    expect((await send(operation(seller, [39.99]))).json).toMatchObject({ Success: true });
    expect((await send(operation(seller, [0.01]))).json).toMatchObject({ Success: true });
    const over = operation(seller, [0.01]);
    const refused = await send(over);
    expect([refused.status, refused.json.Code]).toEqual([422, 'Guardrail.DailyBudget']);
    expect(await issued(over)).toHaveLength(0);
    expect(await budgetCounter(seller)).toBe(10000);
  });
});

describe('records stay true when Redis loses a write or its reply', () => {
  it.each(['drop-reply', 'garble-reply'] as const)(
    'SENDING write with its reply lost (%s): nothing sent, the chunk written back as owed; a redelivery sends it once',
    async (action) => {
      const seller = ++nextSeller;
      const op = operation(seller, [5]);
      const lost = proxy.inject({ match: chunkWrite('SENDING', op.requestId), action, times: Infinity });
      const first = await send(op);
      lost.cancel();
      expect(lost.fired).toBeGreaterThan(0);
      expect([first.status, first.json.Code]).toEqual([503, 'IdempotencyStoreUnavailable']);
      expect(await issued(op)).toHaveLength(0);
      expect((await record(op)).chunks['1']?.state).toBe('PENDING');
      expect(await budgetCounter(seller)).toBe(0);

      const again = await deliverUntilReplayed(op);
      expect(recipients(again)).toMatchObject([{ status: 'SENT' }]);
      expect(await issued(op)).toHaveLength(1);
      expect(await budgetCounter(seller)).toBe(500);
    },
  );

  it.each([
    ['one chunk', [6]],
    ['chunk 1 of 2', [6, 7]],
  ])('SENT write lost (%s): never COMPLETED over a chunk left SENDING, and nothing sent twice', async (_n, amounts) => {
    const seller = ++nextSeller;
    const op = operation(seller, amounts);
    const chunk1 = amounts.length === 1 ? op.requestId : `${op.requestId}-1`;
    const lost = proxy.inject({ match: chunkWrite('SENT', chunk1), action: 'drop-command' });
    const first = await send(op);
    expect(lost.fired).toBe(1);
    expect(first.status).toBe(200);
    expect(recipients(first)[0]).toMatchObject({ status: 'SENT' });
    const stored = await record(op);
    if (stored.status === 'COMPLETED') {
      expect(Object.values(stored.chunks).map((c) => c.state)).toEqual(amounts.map(() => 'SENT'));
    }
    const last = await deliverUntilReplayed(op);
    expect(last.headers.get('idempotent-replayed')).toBe('true');
    expect(recipients(last).map((r) => r['status'])).toEqual(amounts.map(() => 'SENT'));
    expect(await record(op)).toMatchObject({ status: 'COMPLETED' });
    expect(Object.values((await record(op)).chunks).map((c) => c.state)).toEqual(amounts.map(() => 'SENT'));
    expect(await issued(op)).toHaveLength(amounts.length);
    expect(await budgetCounter(seller)).toBe(cents(amounts));
  });

  it.each([
    ['one chunk', [8]],
    ['chunk 1 of 2', [8, 9]],
  ])(
    'FLUSHALL while a slow call is in flight (%s): the record is recreated, a redelivery replays it, one coupon each',
    async (_n, amounts) => {
      const seller = ++nextSeller;
      const op = operation(seller, amounts);
      // The upstream issues the coupon, then takes 1.5 s to answer (within UPSTREAM_TIMEOUT_MS): a slow success.
      await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 1500 });
      const answer = send(op);
      for (let i = 0; i < 100 && (await issued(op)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await issued(op)).toHaveLength(1);
      expect(await redisCommand(redis.port, 'FLUSHALL')).toBe('OK');
      const first = await answer;
      expect(first.status).toBe(200);
      expect(recipients(first).map((r) => r['status'])).toEqual(amounts.map(() => 'SENT'));

      const stored = await record(op);
      expect(stored.status).toBe('COMPLETED');
      expect(Object.values(stored.chunks).map((c) => c.state)).toEqual(amounts.map(() => 'SENT'));
      const replay = await send(op);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(recipients(replay).map((r) => r['status'])).toEqual(amounts.map(() => 'SENT'));
      expect(await issued(op)).toHaveLength(amounts.length);

      const lines = stack.logs.filter((l) => l.includes(`"RequestId":"${op.requestId}"`));
      expect(lines.some((l) => l.includes('recreated from what this delivery knows'))).toBe(true);
      expect(lines.some((l) => l.includes('lost to another delivery'))).toBe(false);
    },
  );
});
