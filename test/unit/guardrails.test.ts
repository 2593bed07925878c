import { describe, expect, it } from 'vitest';
import { budgetDay } from '../../lib/guardrails/budget-day.js';
import { DailyBudget, isRefusal, operationRefusal } from '../../lib/guardrails/guardrails.js';
import { createMemoryLedger } from '../../lib/guardrails/ledger.js';
import { operation, recipient } from '../fixtures/operations.js';

const ref = (id: string, owner = 'delivery-1') => ({ id, owner });

describe('budget days', () => {
  it.each([
    ['2026-11-29T15:59:59Z', 'Asia/Shanghai', '2026-11-29'],
    ['2026-11-29T16:00:00Z', 'Asia/Shanghai', '2026-11-30'],
    ['2026-11-29T23:59:59Z', 'UTC', '2026-11-29'],
    ['2026-11-30T04:59:59Z', 'America/New_York', '2026-11-29'],
  ])('%s is %s in %s', (at, zone, day) => {
    expect(budgetDay(Date.parse(at), zone)).toBe(day);
  });

  it('starts a fresh budget at midnight in BUDGET_TIMEZONE, and releases into the day it reserved', async () => {
    let now = Date.parse('2026-11-29T15:59:00Z');
    const budget = new DailyBudget(
      createMemoryLedger(),
      { dailyBudgetCents: 1000, budgetTimeZone: 'Asia/Shanghai' },
      () => now,
    );
    const before = await budget.reserve(budget.plan('1', 1000, ref('a')));
    expect(isRefusal(before)).toBe(false);
    expect(isRefusal(await budget.reserve(budget.plan('1', 1, ref('b'))))).toBe(true);
    now = Date.parse('2026-11-29T16:01:00Z');
    const after = await budget.reserve(budget.plan('1', 1000, ref('c')));
    expect(isRefusal(after)).toBe(false);
    if (!isRefusal(before)) await budget.release(before);
    expect(await budget.check('1', 1)).toMatchObject({ code: 'Guardrail.DailyBudget' });
  });

  it('keeps sellers apart', async () => {
    const budget = new DailyBudget(createMemoryLedger(), { dailyBudgetCents: 100, budgetTimeZone: 'UTC' }, Date.now);
    expect(isRefusal(await budget.reserve(budget.plan('1', 100, ref('a'))))).toBe(false);
    expect(isRefusal(await budget.reserve(budget.plan('2', 100, ref('b'))))).toBe(false);
  });
});

describe('operation guardrails', () => {
  const op = operation({
    templateId: { digits: '7', kind: 'number' },
    recipients: [recipient('1', 0.1), recipient('2', 0.2)],
  });
  it.each([
    [{ budgetTimeZone: 'UTC' }, undefined],
    [{ budgetTimeZone: 'UTC', maxOperationCents: 30 }, undefined],
    [{ budgetTimeZone: 'UTC', maxOperationCents: 29 }, 'Guardrail.OperationAmount'],
    [{ budgetTimeZone: 'UTC', templateAllowlist: new Set(['7']) }, undefined],
    [{ budgetTimeZone: 'UTC', templateAllowlist: new Set(['8']) }, 'Guardrail.TemplateNotAllowed'],
  ])('%j → %s (amounts summed in exact cents)', (settings, code) => {
    expect(operationRefusal(op, settings)?.code).toBe(code);
  });
});
