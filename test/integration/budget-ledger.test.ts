/**
 * The daily budget's ledgers, memory and a real redis-server, held to the same rules: a reservation is counted
 * once however often it is asked for, given back at most once and only by its holder, handed over to a new
 * delivery without being counted twice, and the limit is exact to the cent. A model-based property test keeps
 * the counter equal to the sum of the reservations held, whatever the order of calls; and through the fault
 * proxy, a RESERVE or RELEASE whose reply was lost can be sent again safely.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DailyBudget, isRefusal } from '../../lib/guardrails/guardrails.js';
import { createMemoryLedger, type BudgetLedger } from '../../lib/guardrails/ledger.js';
import { redisBudgetLedger } from '../../lib/guardrails/redis-ledger.js';
import { createRedisClient, type RedisClient } from '../../lib/redis/client.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { scriptCall, startRedisFaultProxy, type RedisFaultProxy } from '../helpers/redis-fault-proxy.js';

let redis: RedisServer;
let proxy: RedisFaultProxy;
const clients: RedisClient[] = [];
const ledgers: Record<string, () => BudgetLedger> = {};
beforeAll(async () => {
  redis = await startRedis();
  proxy = await startRedisFaultProxy(redis.port);
  const direct = createRedisClient(redis.url);
  clients.push(direct);
  ledgers['memory'] = () => createMemoryLedger();
  ledgers['redis'] = () => redisBudgetLedger(direct, `t${++prefixes}:`);
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await proxy.close();
  await redis.stop();
});

let prefixes = 0;
const DAY_MS = 86_400_000;
const ref = (id: string, owner: string) => ({ id, owner });

describe.each(['memory', 'redis'])('%s budget ledger', (name) => {
  const ledger = () => (ledgers[name] as () => BudgetLedger)();

  it.each<[string, number[], boolean[]]>([
    ['exactly fill the limit: accepted', [6000, 4000], [true, true]],
    ['one cent more than the limit: refused', [6000, 4000, 1], [true, true, false]],
    ['one cent under, then that cent: accepted', [9999, 1], [true, true]],
    ['one reservation of the whole limit: accepted', [10000], [true]],
    ['one reservation a cent over the limit: refused', [10001], [false]],
  ])('%s', async (_name, amounts, granted) => {
    const l = ledger();
    const got = [];
    for (const [i, cents] of amounts.entries())
      got.push((await l.reserve('s:d', ref(`c${i}`, 'o'), cents, 10000, DAY_MS)).granted);
    expect(got).toEqual(granted);
    expect(await l.used('s:d')).toBe(amounts.filter((_, i) => granted[i]).reduce((a, b) => a + b, 0));
  });

  it('counts a reservation asked for twice (a reply lost, the call sent again) once', async () => {
    const l = ledger();
    expect((await l.reserve('s:d', ref('op:1', 'a'), 3000, 10000, DAY_MS)).granted).toBe(true);
    expect((await l.reserve('s:d', ref('op:1', 'a'), 3000, 10000, DAY_MS)).granted).toBe(true);
    expect(await l.used('s:d')).toBe(3000);
  });

  it('gives a reservation back once, however often the release is sent', async () => {
    const l = ledger();
    await l.reserve('s:d', ref('op:1', 'a'), 3000, 10000, DAY_MS);
    await l.reserve('s:d', ref('op:2', 'a'), 3000, 10000, DAY_MS);
    expect(await l.release('s:d', ref('op:1', 'a'))).toBe(true);
    expect(await l.release('s:d', ref('op:1', 'a'))).toBe(false);
    expect(await l.release('s:d', ref('op:1', 'a'))).toBe(false);
    expect(await l.used('s:d')).toBe(3000);
  });

  it('hands a held reservation to the next delivery without counting it twice; the old holder can no longer release it', async () => {
    const l = ledger();
    await l.reserve('s:d', ref('op:1', 'first'), 3000, 3000, DAY_MS);
    // The first delivery stopped before sending: the next one takes the chunk over, even with the budget full.
    expect((await l.reserve('s:d', ref('op:1', 'second'), 3000, 3000, DAY_MS)).granted).toBe(true);
    expect(await l.used('s:d')).toBe(3000);
    expect(await l.release('s:d', ref('op:1', 'first'))).toBe(false);
    expect(await l.used('s:d')).toBe(3000);
    expect(await l.release('s:d', ref('op:1', 'second'))).toBe(true);
    expect(await l.used('s:d')).toBe(0);
  });

  it('counts a chunk again once it was given back and is reserved anew', async () => {
    const l = ledger();
    await l.reserve('s:d', ref('op:1', 'first'), 3000, 10000, DAY_MS);
    await l.release('s:d', ref('op:1', 'first'));
    expect((await l.reserve('s:d', ref('op:1', 'second'), 3000, 10000, DAY_MS)).granted).toBe(true);
    expect(await l.used('s:d')).toBe(3000);
  });

  it('never releases what nobody reserved, nor below zero', async () => {
    const l = ledger();
    expect(await l.release('s:d', ref('never', 'a'))).toBe(false);
    expect(await l.used('s:d')).toBe(0);
  });

  it('keeps the counter equal to the sum of the reservations held, for any sequence of calls (model-based)', async () => {
    const call = fc.record({
      kind: fc.constantFrom('reserve', 'release'),
      chunk: fc.integer({ min: 1, max: 4 }),
      owner: fc.constantFrom('a', 'b'),
      cents: fc.integer({ min: 1, max: 4000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 25 }), async (calls) => {
        const l = ledger();
        const held = new Map<number, { owner: string; cents: number }>();
        for (const c of calls) {
          const r = ref(`op:${c.chunk}`, c.owner);
          if (c.kind === 'reserve') {
            const before = [...held.values()].reduce((s, h) => s + h.cents, 0);
            const { granted } = await l.reserve('s:d', r, c.cents, 10000, DAY_MS);
            const had = held.get(c.chunk);
            const expected = had !== undefined || before + c.cents <= 10000;
            expect(granted).toBe(expected);
            if (granted) held.set(c.chunk, { owner: c.owner, cents: had?.cents ?? c.cents });
          } else {
            const gaveBack = await l.release('s:d', r);
            expect(gaveBack).toBe(held.get(c.chunk)?.owner === c.owner);
            if (gaveBack) held.delete(c.chunk);
          }
          const total = [...held.values()].reduce((s, h) => s + h.cents, 0);
          expect(await l.used('s:d')).toBe(total);
          expect(total).toBeLessThanOrEqual(10000);
        }
      }),
      { numRuns: name === 'redis' ? 40 : 200 },
    );
  });
});

describe('DailyBudget on the memory ledger', () => {
  it('accepts reservations that exactly fill DAILY_BUDGET, and refuses one cent more', async () => {
    const budget = new DailyBudget(createMemoryLedger(), { dailyBudgetCents: 10000, budgetTimeZone: 'UTC' }, Date.now);
    expect(isRefusal(await budget.reserve(budget.plan('1', 6000, ref('op:1', 'a'))))).toBe(false);
    expect(isRefusal(await budget.reserve(budget.plan('1', 4000, ref('op:2', 'a'))))).toBe(false);
    expect(await budget.reserve(budget.plan('1', 1, ref('op:3', 'a')))).toMatchObject({
      code: 'Guardrail.DailyBudget',
    });
  });
});

describe('budget scripts on Redis whose reply is lost', () => {
  const budgetCall = (args: number) => (cmd: readonly string[]) => {
    const call = scriptCall(cmd);
    return call?.keys[0]?.startsWith('lost:') === true && call.args.length === args;
  };

  it('a RESERVE that ran, sent again: counted once; a RELEASE that ran, sent again: given back once', async () => {
    const client = createRedisClient(proxy.url, { commandTimeoutMs: 300 });
    clients.push(client);
    const l = redisBudgetLedger(client, 'lost:');
    const check = redisBudgetLedger(clients[0] as RedisClient, 'lost:');
    await l.reserve('s:d', ref('op:0', 'a'), 2000, 10000, DAY_MS);

    const reserveLost = proxy.inject({ match: budgetCall(5), action: 'drop-reply' });
    // Whether or not the client sends it again by itself, the script ran once and is then sent again here.
    await l.reserve('s:d', ref('op:1', 'a'), 3000, 10000, DAY_MS).catch(() => undefined);
    expect(reserveLost.fired).toBe(1);
    expect(await check.used('s:d')).toBe(5000);
    expect((await l.reserve('s:d', ref('op:1', 'a'), 3000, 10000, DAY_MS)).granted).toBe(true);
    expect(await check.used('s:d')).toBe(5000);

    const releaseLost = proxy.inject({ match: budgetCall(2), action: 'drop-reply' });
    await l.release('s:d', ref('op:1', 'a')).catch(() => undefined);
    expect(releaseLost.fired).toBe(1);
    expect(await check.used('s:d')).toBe(2000);
    expect(await l.release('s:d', ref('op:1', 'a'))).toBe(false);
    expect(await check.used('s:d')).toBe(2000);
  });
});
