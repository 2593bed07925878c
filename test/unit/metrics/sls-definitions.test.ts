import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { OperationMeter } from '../../../lib/metrics/meter.js';
import { operationLine } from '../../../lib/metrics/operation-line.js';
import { executed } from '../../../lib/send/execute.js';
import { cloudEvent, timerEvent } from '../../fixtures/requests.js';
import { scanLogs } from '../../helpers/log-scan.js';
import { fault, invoke, postJson, rid, startStack, type Stack } from '../../helpers/stack.js';

/**
 * The shipped SLS definitions (deploy/sls) against the lines the code really writes: real operations through the
 * local stack (the functions, the emulator over HTTP), each outcome an operator charts, then every field the index,
 * the saved searches and the dashboard name checked against what those lines hold.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const readJson = <T>(path: string): T => JSON.parse(readFileSync(`${root}${path}`, 'utf8')) as T;

type IndexKey = { type: 'text' | 'long' | 'double' | 'json' };
const index = readJson<{ keys: { message: { json_keys: Record<string, IndexKey> } } }>('deploy/sls/index.json');
const jsonKeys = index.keys.message.json_keys;
const savedSearches = readJson<Array<{ savedsearchName: string; searchQuery: string }>>(
  'deploy/sls/saved-searches.json',
);
const dashboard = readJson<{ charts: Array<{ title: string; search: { query: string } }> }>(
  'deploy/sls/dashboard.json',
);
const queries: Array<[string, string]> = [
  ...savedSearches.map((s): [string, string] => [`saved search ${s.savedsearchName}`, s.searchQuery]),
  ...dashboard.charts.map((c): [string, string] => [`chart "${c.title}"`, c.search.query]),
];

type Line = Record<string, unknown>;

const uids = (n: number, from = 1) => Array.from({ length: n }, (_, i) => 1918000000800 + from + i);
const request = (requestId: string | undefined, amounts: number[], from = 1) => ({
  SellerId: 3944837183,
  TemplateId: 295873,
  FromApp: 'metrics',
  ...(requestId === undefined ? {} : { RequestId: requestId }),
  userAmountModelList: amounts.map((amount, i) => ({ uid: uids(amounts.length, from)[i], amount })),
});

const parse = (raw: readonly string[]): Line[] =>
  raw.flatMap((l) => {
    try {
      const v: unknown = JSON.parse(l);
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? [v as Line] : [];
    } catch {
      return [];
    }
  });

/** What SLS would index a JSON value as: booleans are indexed as text. */
const fits = (type: IndexKey['type'], v: unknown) =>
  type === 'long'
    ? Number.isInteger(v)
    : type === 'double'
      ? typeof v === 'number'
      : typeof v === 'string' || typeof v === 'boolean';

describe('the SLS definitions against the metric lines the code writes', () => {
  let all: Line[] = [];
  let rawMetric: string[] = [];
  let metric: Line[] = [];
  const ops = (pred: (l: Line) => boolean) => metric.filter((l) => l['metric'] === 'operation' && pred(l));

  beforeAll(async () => {
    const raw: string[] = [];
    const env = {
      DAILY_BUDGET: '10',
      MAX_OPERATION_AMOUNT: '8',
      CHUNK_SIZE: '2',
      UPSTREAM_TIMEOUT_MS: '400',
      LOG_LEVEL: 'info',
    };
    const stack: Stack = await startStack(env);
    try {
      const url = `${stack.gateway}/coupons`;
      const sent = request(rid('m-sent'), [1, 1, 1]);
      expect((await postJson(url, sent)).status).toBe(200);
      expect((await postJson(url, sent)).headers.get('idempotent-replayed')).toBe('true');
      await fault(stack, { mode: 'throttle', count: 1 });
      expect((await postJson(url, request(rid('m-throttled'), [1], 10))).status).toBe(200);
      await fault(stack, { mode: 'business-error', count: 1 });
      expect((await postJson(url, request(rid('m-failed'), [1], 20))).status).toBe(422);
      await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 3000 });
      expect((await postJson(url, request(rid('m-unknown'), [1], 30))).json.Code).toBe('UnknownOutcome');
      expect((await postJson(url, request(rid('m-amount'), [9], 40))).json.Code).toBe('Guardrail.OperationAmount');
      expect((await postJson(url, request(rid('m-budget'), [4, 4], 50))).json.Code).toBe('Guardrail.DailyBudget');
      const invalid = { ...request(rid('m-invalid'), [1], 60), userAmountModelList: [{ uid: 1, amount: '1' }] };
      expect((await postJson(url, invalid)).status).toBe(400);
      expect((await invoke(stack, 'coupon-event', cloudEvent(rid('m-evt'), request(undefined, [1], 70)))).status).toBe(
        200,
      );
      expect((await invoke(stack, 'coupon-event', request(rid('m-raw'), [1], 80))).status).toBe(200);
      expect((await invoke(stack, 'coupon-timer', timerEvent(request(undefined, [0.5], 90)))).status).toBe(200);
    } finally {
      await stack.stop();
      raw.push(...stack.logs);
    }
    const dry = await startStack({ DRY_RUN: 'true', DAILY_BUDGET: '10' });
    try {
      expect((await postJson(`${dry.gateway}/coupons`, request(rid('m-dry'), [1]))).json.Code).toBe('DryRun');
    } finally {
      await dry.stop();
      raw.push(...dry.logs);
    }
    // The labels another part sets (a lane, a campaign chunk) are written by the same builder: one line with them.
    const meter = new OperationMeter();
    meter.lane = 'bulk';
    meter.campaignId = 'spring';
    meter.campaignChunk = 1;
    const op = {
      sellerId: { digits: '1', kind: 'number' as const },
      templateId: { digits: '2', kind: 'number' as const },
      requestId: 'campaign-spring-1',
      fromApp: 'campaigns',
      recipients: [],
      form: 'flat' as const,
    };
    const labelled = operationLine({
      ref: { requestId: op.requestId },
      answer: { executed: executed(op, [], false) },
      chunkSize: 1,
      durationMs: 1,
      meter,
    });
    raw.push(
      JSON.stringify({ time: new Date().toISOString(), level: labelled.level, msg: labelled.msg, ...labelled.fields }),
    );

    all = parse(raw);
    rawMetric = raw.filter((l) => l.includes('"metric":'));
    metric = parse(rawMetric);
  }, 120_000);

  it('captured every outcome an operator charts', () => {
    const outcomes = new Set(ops(() => true).map((l) => l['outcome']));
    expect([...outcomes].sort()).toEqual(expect.arrayContaining(['dryRun', 'failed', 'refused', 'sent', 'unknown']));
    expect(ops((l) => l['replayed'] === true)).not.toHaveLength(0);
    expect(new Set(ops((l) => l['guardrailCode'] !== undefined).map((l) => l['guardrailCode']))).toEqual(
      new Set(['Guardrail.OperationAmount', 'Guardrail.DailyBudget']),
    );
    expect(metric.filter((l) => l['metric'] === 'upstream_call' && l['throttled'] === true)).not.toHaveLength(0);
    expect(new Set(ops((l) => 'trigger' in l).map((l) => l['trigger']))).toEqual(new Set(['http', 'event', 'timer']));
    expect(ops((l) => l['outcome'] === 'refused' && l['Code'] === 'InvalidParameter')).not.toHaveLength(0);
  });

  it('counts each coupon once: a replay issues nothing, the first delivery all of it', () => {
    const [first, replay] = ops((l) => String(l['RequestId']).startsWith('m-sent'));
    expect(first).toMatchObject({ outcome: 'sent', issuedCoupons: 3, issuedCents: 300, issuedAmount: '3', chunks: 2 });
    expect(replay).toMatchObject({ replayed: true, recipientsSent: 3, issuedCoupons: 0, issuedCents: 0 });
    const [unknown] = ops((l) => String(l['RequestId']).startsWith('m-unknown'));
    expect(unknown).toMatchObject({ outcome: 'unknown', unknownCoupons: 1, unknownCents: 100, unknownAmount: '1' });
    const [throttled] = ops((l) => String(l['RequestId']).startsWith('m-throttled'));
    expect(throttled).toMatchObject({ outcome: 'sent', throttles: 1, upstreamCalls: 2 });
  });

  it('reports the daily budget from the reservations, never beyond the limit', () => {
    const withBudget = ops((l) => l['budgetUsedCents'] !== undefined && l['dryRun'] === false);
    expect(withBudget).not.toHaveLength(0);
    for (const l of withBudget) {
      expect(l['budgetLimitCents']).toBe(1000);
      expect(Number(l['budgetUsedCents']) + Number(l['budgetLeftCents'])).toBe(1000);
    }
    const [budget] = ops((l) => String(l['RequestId']).startsWith('m-budget'));
    expect(budget).toMatchObject({ outcome: 'failed', recipientsOwed: 2, budgetLimitCents: 1000 });
  });

  it('writes every indexed field, and with the type it is indexed as', () => {
    for (const [key, { type }] of Object.entries(jsonKeys)) {
      const values = all.filter((l) => key in l).map((l) => l[key]);
      expect(values, `no line writes indexed field ${key}`).not.toHaveLength(0);
      const wrong = values.filter((v) => !fits(type, v));
      expect(wrong, `${key} is indexed as ${type} but written as ${JSON.stringify(wrong.slice(0, 3))}`).toEqual([]);
    }
  });

  it('indexes every field a metric line writes', () => {
    const written = new Set(metric.flatMap((l) => Object.keys(l)));
    expect([...written].filter((k) => !(k in jsonKeys))).toEqual([]);
  });

  it('writes metric lines flat, under 8 KiB, and without a uid', () => {
    expect(rawMetric.length).toBeGreaterThan(20);
    for (const line of rawMetric) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(8192);
    for (const l of metric) {
      for (const [k, v] of Object.entries(l)) {
        expect(['string', 'number', 'boolean'], `${k} is ${JSON.stringify(v)}`).toContain(typeof v);
        expect(k).not.toMatch(/uid/i);
      }
    }
    expect(scanLogs(rawMetric, [])).toEqual([]);
    // Not even masked: a masked uid is still a customer's, and a metric is no place for it.
    for (const line of rawMetric) expect(line).not.toMatch(/\d\*{3,}\d/);
  });

  describe.each(queries)('%s', (_name, query) => {
    const [search = '', sql = ''] = query.split(/\|(.*)/s);
    const fields = [...query.matchAll(/message\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? '');

    it('names only indexed fields the code writes', () => {
      expect(fields.length).toBeGreaterThan(0);
      for (const f of fields) {
        expect(jsonKeys, `${f} is not indexed`).toHaveProperty([f]);
        expect(
          all.some((l) => f in l),
          `no line writes ${f}`,
        ).toBe(true);
      }
    });

    it('uses numeric fields as numbers: indexed long or double, written as numbers', () => {
      const numeric = [
        ...search.matchAll(/message\.(\w+)\s*(?:>|<|>=|<=)\s*-?\d/g),
        ...sql.matchAll(/(?:sum|avg|min|max|approx_percentile)\(\s*"message\.(\w+)"/g),
        ...sql.matchAll(/"message\.(\w+)"\s*[/*+-]\s*\d/g),
      ].map((m) => m[1] ?? '');
      for (const f of numeric) {
        expect(['long', 'double'], `${f} is used as a number`).toContain(jsonKeys[f]?.type);
        expect(all.filter((l) => f in l).every((l) => typeof l[f] === 'number')).toBe(true);
      }
    });

    it('matches values the code writes', () => {
      for (const m of search.matchAll(/message\.(\w+):\s*("[^"]*"|[^\s)]+)/g)) {
        const [, f = '', literal = ''] = m;
        if (literal.includes('${{') || literal === '*') continue;
        const prefix = literal.endsWith('*') ? literal.slice(0, -1) : undefined;
        const hit = all.some(
          (l) => f in l && (prefix === undefined ? String(l[f]) === literal : String(l[f]).startsWith(prefix)),
        );
        expect(hit, `no line writes ${f}: ${literal}`).toBe(true);
      }
      for (const m of sql.matchAll(/"message\.(\w+)"\s*=\s*'([^']*)'/g)) {
        const [, f = '', literal = ''] = m;
        expect(
          all.some((l) => String(l[f]) === literal),
          `no line writes ${f} = '${literal}'`,
        ).toBe(true);
      }
    });
  });
});
