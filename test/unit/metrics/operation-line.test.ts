import { describe, expect, it } from 'vitest';
import { AppError } from '../../../lib/errors.js';
import { OperationMeter } from '../../../lib/metrics/meter.js';
import { operationLine } from '../../../lib/metrics/operation-line.js';
import { refOf, type Operation, type RecipientResult } from '../../../lib/operation.js';
import { executed } from '../../../lib/send/execute.js';

const id = (digits: string) => ({ digits, kind: 'number' as const });

const operation = (amounts: number[]): Operation => ({
  sellerId: id('3944837183'),
  templateId: id('295873'),
  requestId: 'metrics-req-1',
  fromApp: 'crm',
  recipients: amounts.map((amount, i) => ({ uid: id(`19181234${i}883`), amount, amountText: String(amount) })),
  form: 'flat',
});

const SENT: RecipientResult = { status: 'SENT', youhuiId: { text: '1', kind: 'number' } };
const UNKNOWN: RecipientResult = { status: 'UNKNOWN', code: 'Upstream.Timeout', message: 'no answer' };
const OWED: RecipientResult = { status: 'FAILED', code: 'Throttling.User', message: 'slow', retryable: true };
const REJECTED: RecipientResult = { status: 'FAILED', code: 'InvalidUid', message: 'no such uid' };
const BUDGET: RecipientResult = {
  status: 'FAILED',
  code: 'Guardrail.DailyBudget',
  message: 'spent',
  retryable: true,
};

/** A meter as the send path leaves it when this delivery's calls settled `chunks`. */
const meterOf = (chunks: number[], calls = chunks.length, throttles = 0) => {
  const m = new OperationMeter();
  for (let i = 0; i < calls; i++) m.call(i < throttles);
  for (const c of chunks) m.settled(c);
  return m;
};

describe('operationLine', () => {
  it.each<[string, number[], RecipientResult[], number[], Record<string, unknown>]>([
    [
      'every recipient sent',
      [8.88, 1.12],
      [SENT, SENT],
      [1, 2],
      {
        outcome: 'sent',
        Code: 'success',
        status: 200,
        recipientsSent: 2,
        issuedCoupons: 2,
        issuedCents: 1000,
        issuedAmount: '10',
      },
    ],
    [
      'one sent, one unknown',
      [0.1, 0.2],
      [SENT, UNKNOWN],
      [1, 2],
      {
        outcome: 'partial',
        recipientsUnknown: 1,
        unknownCoupons: 1,
        unknownCents: 20,
        unknownAmount: '0.2',
        issuedCents: 10,
      },
    ],
    [
      'every recipient unknown',
      [5],
      [UNKNOWN],
      [1],
      { outcome: 'unknown', Code: 'UnknownOutcome', recipientsUnknown: 1, issuedCents: 0, issuedAmount: '0' },
    ],
    [
      'throttled and owed',
      [5],
      [OWED],
      [1],
      { outcome: 'failed', status: 429, recipientsFailed: 1, recipientsOwed: 1, issuedCoupons: 0 },
    ],
    [
      'rejected by the upstream',
      [5],
      [REJECTED],
      [1],
      { outcome: 'failed', status: 422, recipientsFailed: 1, recipientsOwed: 0 },
    ],
    [
      'a chunk sent by an earlier delivery is not issued again by this one',
      [1, 2],
      [SENT, SENT],
      [2],
      { outcome: 'sent', recipientsSent: 2, issuedCoupons: 1, issuedCents: 200 },
    ],
    [
      'refused by the daily budget',
      [1, 2],
      [SENT, BUDGET],
      [1],
      { outcome: 'partial', guardrailCode: 'Guardrail.DailyBudget', recipientsOwed: 1, issuedCents: 100 },
    ],
  ])('%s', (_name, amounts, results, settled, expected) => {
    const op = operation(amounts);
    const line = operationLine({
      ref: refOf(op),
      answer: { executed: executed(op, results, false) },
      chunkSize: 1,
      durationMs: 12.4,
      meter: meterOf(settled),
    });
    expect(line.msg).toBe('operation');
    expect(line.fields).toMatchObject({
      metric: 'operation',
      RequestId: 'metrics-req-1',
      fromApp: 'crm',
      recipients: amounts.length,
      chunks: amounts.length,
      durationMs: 12,
      replayed: false,
      dryRun: false,
      ...expected,
    });
  });

  it.each<[string, RecipientResult[], string]>([
    ['info when all sent', [SENT], 'info'],
    ['warn when some failed', [OWED], 'warn'],
    ['error when any is unknown', [SENT, UNKNOWN], 'error'],
  ])('level: %s', (_name, results, level) => {
    const op = operation(results.map(() => 1));
    const line = operationLine({
      ref: refOf(op),
      answer: { executed: executed(op, results, false) },
      chunkSize: 10,
      durationMs: 1,
    });
    expect(line.level).toBe(level);
  });

  it('a replay issues nothing again, whatever it answers', () => {
    const op = operation([3, 4]);
    const line = operationLine({
      ref: refOf(op),
      answer: { executed: executed(op, [SENT, SENT], true) },
      chunkSize: 1,
      durationMs: 1,
      meter: new OperationMeter(),
    });
    expect(line.fields).toMatchObject({
      replayed: true,
      recipientsSent: 2,
      issuedCoupons: 0,
      issuedCents: 0,
      upstreamCalls: 0,
    });
  });

  it('a dry run says so and issues nothing', () => {
    const op = operation([3]);
    const results: RecipientResult[] = [{ status: 'DRY_RUN' }];
    const line = operationLine({
      ref: refOf(op),
      answer: { executed: { ...executed(op, results, false), dryRun: true } },
      chunkSize: 1,
      durationMs: 1,
    });
    expect(line.fields).toMatchObject({ outcome: 'dryRun', dryRun: true, recipientsDryRun: 1, issuedCents: 0 });
  });

  it.each<[string, AppError, string, Record<string, unknown>]>([
    ['in progress elsewhere', new AppError(409, 'RequestInProgress', 'busy'), 'warn', { status: 409 }],
    ['store unavailable', new AppError(503, 'IdempotencyStoreUnavailable', 'down'), 'error', { status: 503 }],
  ])('refused before sending: %s', (_name, error, level, expected) => {
    const op = operation([1, 2, 3]);
    const line = operationLine({ ref: refOf(op), operation: op, answer: { error }, chunkSize: 2, durationMs: 1 });
    expect(line.level).toBe(level);
    expect(line.fields).toMatchObject({
      outcome: 'refused',
      Code: error.code,
      recipients: 3,
      chunks: 2,
      requestedCents: 600,
      ...expected,
    });
    expect(line.fields).not.toHaveProperty('issuedCents');
  });

  it('an invalid request names only what it knows', () => {
    const line = operationLine({
      ref: { requestId: 'bad-1' },
      answer: { error: new AppError(400, 'InvalidParameter', 'amount is missing') },
      chunkSize: 10,
      durationMs: 0,
    });
    expect(line.fields).toEqual({
      metric: 'operation',
      RequestId: 'bad-1',
      durationMs: 0,
      upstreamCalls: 0,
      throttles: 0,
      outcome: 'refused',
      Code: 'InvalidParameter',
      status: 400,
      replayed: false,
      dryRun: false,
    });
  });

  it.each<[string, number | undefined, (m: OperationMeter) => void, Record<string, unknown>]>([
    ['no DAILY_BUDGET: no budget fields', undefined, (m) => m.budgetReported(500), {}],
    [
      'reported by a reservation',
      10_000,
      (m) => m.budgetReported(2_500),
      { budgetUsedCents: 2_500, budgetLeftCents: 7_500 },
    ],
    [
      'less what was given back after',
      10_000,
      (m) => {
        m.budgetReported(2_500);
        m.budgetReleased(500);
      },
      { budgetUsedCents: 2_000, budgetLeftCents: 8_000 },
    ],
    ['never below nothing left', 1_000, (m) => m.budgetReported(1_200), { budgetUsedCents: 1_200, budgetLeftCents: 0 }],
    ['no reservation answered: the limit only', 1_000, () => undefined, {}],
  ])('budget: %s', (_name, limit, use, expected) => {
    const op = operation([1]);
    const meter = new OperationMeter();
    use(meter);
    const line = operationLine({
      ref: refOf(op),
      answer: { executed: executed(op, [SENT], false) },
      chunkSize: 1,
      durationMs: 1,
      meter,
      ...(limit === undefined ? {} : { budgetLimitCents: limit }),
    });
    const budget = Object.fromEntries(Object.entries(line.fields).filter(([k]) => k.startsWith('budget')));
    expect(budget).toEqual(limit === undefined ? {} : { budgetLimitCents: limit, ...expected });
  });

  it('carries the lane and campaign labels when the meter has them', () => {
    const op = operation([1]);
    const meter = meterOf([1], 3, 2);
    meter.lane = 'bulk';
    meter.campaignId = 'spring';
    meter.campaignChunk = 4;
    const line = operationLine({
      ref: refOf(op),
      answer: { executed: executed(op, [SENT], false) },
      chunkSize: 1,
      durationMs: 1,
      meter,
    });
    expect(line.fields).toMatchObject({
      lane: 'bulk',
      campaignId: 'spring',
      campaignChunk: 4,
      upstreamCalls: 3,
      throttles: 2,
    });
  });

  it('is flat and names no uid', () => {
    const op = operation([1, 2]);
    const line = operationLine({
      ref: refOf(op),
      answer: { executed: executed(op, [SENT, UNKNOWN], false) },
      chunkSize: 1,
      durationMs: 1,
      meter: meterOf([1, 2]),
    });
    for (const v of Object.values(line.fields)) expect(['string', 'number', 'boolean']).toContain(typeof v);
    const text = JSON.stringify(line.fields);
    for (const r of op.recipients) expect(text).not.toContain(r.uid.digits.slice(0, 4));
  });
});
