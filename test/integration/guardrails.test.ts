import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { fault, ledger, postJson, rid, startStack, type Stack } from '../helpers/stack.js';

const request = (requestId: string, amounts: number[], templateId = 295873) => ({
  SellerId: 3944837183,
  TemplateId: templateId,
  FromApp: 'guardrails',
  RequestId: requestId,
  userAmountModelList: amounts.map((amount, i) => ({ uid: 7_000_000 + i, amount })),
});
const issuedFor = async (stack: Stack, id: string) => (await ledger(stack)).filter((c) => c.requestId.startsWith(id));
/** In cents, so the sum is exact. */
const sum = (amounts: number[]) => amounts.reduce((a, b) => a + Math.round(b * 100), 0);

describe('operation guardrails', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ MAX_OPERATION_AMOUNT: '100', TEMPLATE_ALLOWLIST: '295873, 1' });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it.each<[string, number[], number, string]>([
    ['just under MAX_OPERATION_AMOUNT', [50, 49.99], 200, 'success'],
    ['at MAX_OPERATION_AMOUNT', [50, 50], 200, 'success'],
    ['over MAX_OPERATION_AMOUNT', [50, 50.01], 422, 'Guardrail.OperationAmount'],
  ])('%s', async (_name, amounts, status, code) => {
    const id = rid('opamount');
    const a = await postJson(`${stack.gateway}/coupons`, request(id, amounts));
    expect([a.status, a.json.Code]).toEqual([status, code]);
    expect(await issuedFor(stack, id)).toHaveLength(status === 200 ? amounts.length : 0);
  });

  it('refuses a template outside TEMPLATE_ALLOWLIST, and sends nothing', async () => {
    const id = rid('template');
    const a = await postJson(`${stack.gateway}/coupons`, request(id, [1], 42));
    expect([a.status, a.json.Code]).toEqual([422, 'Guardrail.TemplateNotAllowed']);
    expect(await issuedFor(stack, id)).toHaveLength(0);
    const allowed = await postJson(`${stack.gateway}/coupons`, request(rid('template'), [1], 1));
    expect(allowed.status).toBe(200);
  });
});

describe('the daily budget', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ DAILY_BUDGET: '100', CHUNK_SIZE: '1', CHUNK_CONCURRENCY: '1' });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('issues just under and at the budget, refuses over it, gives back what was proven not issued, and charges no replay', async () => {
    const first = rid('budget');
    expect((await postJson(`${stack.gateway}/coupons`, request(first, [60]))).status).toBe(200);
    const replay = await postJson(`${stack.gateway}/coupons`, request(first, [60]));
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const over = await postJson(`${stack.gateway}/coupons`, request(rid('budget'), [40.01]));
    expect([over.status, over.json.Code]).toEqual([422, 'Guardrail.DailyBudget']);

    await fault(stack, { mode: 'business-error', count: 1 });
    const rejected = await postJson(`${stack.gateway}/coupons`, request(rid('budget'), [30]));
    expect(rejected.status).toBe(422);

    const justUnder = rid('budget');
    expect((await postJson(`${stack.gateway}/coupons`, request(justUnder, [39.99]))).status).toBe(200);
    const atLimit = await postJson(`${stack.gateway}/coupons`, request(rid('budget'), [0.01]));
    expect(atLimit.json).toMatchObject({ Success: true });
    const none = await postJson(`${stack.gateway}/coupons`, request(rid('budget'), [0.01]));
    expect(none.json.Code).toBe('Guardrail.DailyBudget');
    expect(sum((await issuedFor(stack, 'budget')).map((c) => c.amount))).toBe(10_000);
  });

  it('leaves the chunks after a refusal owed and says so per recipient: never a silent partial', async () => {
    const own = await startStack({ DAILY_BUDGET: '10', CHUNK_SIZE: '1', CHUNK_CONCURRENCY: '1' });
    try {
      const id = rid('partial');
      const a = await postJson(`${own.gateway}/coupons`, request(id, [4, 4, 4, 4]));
      expect(a.status).toBe(200);
      expect(a.json.Code).toBe('PartialFailure');
      expect(
        a.json.userAmountModelList.map((r: { status: string; Code?: string; retryable?: boolean }) => [
          r.status,
          r.Code,
          r.retryable,
        ]),
      ).toEqual([
        ['SENT', undefined, undefined],
        ['SENT', undefined, undefined],
        ['FAILED', 'Guardrail.DailyBudget', true],
        ['FAILED', 'Guardrail.DailyBudget', true],
      ]);
      expect(await issuedFor(own, id)).toHaveLength(2);
    } finally {
      await own.stop();
    }
  });
});

describe('the daily budget across instances (two stacks, one Redis)', () => {
  let redis: RedisServer;
  let upstream: Stack;
  let stacks: Stack[];
  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startStack();
    const env = { IDEMPOTENCY_STORE: redis.url, RESELLERTRADE_ENDPOINT: upstream.emulator, DAILY_BUDGET: '50' };
    stacks = await Promise.all([startStack(env), startStack(env)]);
  });
  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.stop()));
    await upstream.stop();
    await redis.stop();
  });

  it('never exceeds DAILY_BUDGET together, however many operations run at once', async () => {
    const id = rid('shared');
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => postJson(`${stacks[i % 2]?.gateway}/coupons`, request(`${id}-${i}`, [3]))),
    );
    const issued = await issuedFor(upstream, id);
    expect(sum(issued.map((c) => c.amount))).toBeLessThanOrEqual(5_000);
    expect(issued).toHaveLength(16);
    expect(answers.filter((a) => a.json.Code === 'Guardrail.DailyBudget')).toHaveLength(24);
  });
});

describe('dry run', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ DRY_RUN: 'true', DAILY_BUDGET: '10', TEMPLATE_ALLOWLIST: '295873' });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('checks everything, sends and reserves nothing, and says dryRun', async () => {
    for (let i = 0; i < 3; i++) {
      const a = await postJson(`${stack.gateway}/coupons`, request(rid('dry'), [9]));
      expect(a.json).toMatchObject({
        Success: true,
        Code: 'DryRun',
        dryRun: true,
        userAmountModelList: [{ status: 'DRY_RUN' }],
      });
    }
    const over = await postJson(`${stack.gateway}/coupons`, request(rid('dry'), [11]));
    expect([over.status, over.json.Code, over.json.dryRun]).toEqual([422, 'Guardrail.DailyBudget', true]);
    const template = await postJson(`${stack.gateway}/coupons`, request(rid('dry'), [1], 5));
    expect([template.status, template.json.Code]).toEqual([422, 'Guardrail.TemplateNotAllowed']);
    expect(await ledger(stack)).toEqual([]);
    const dry = stack.logs.filter((l) => l.includes('dry run: SendCoupon not sent'));
    expect(dry).toHaveLength(3);
    for (const line of dry) expect(line).toMatch(/UserAmountModelList\.1\.Uid=\*{7}&/);
    expect(stack.logs.join('\n')).not.toContain('Uid=7000000');
  });
});
