/**
 * The shared upstream quota under load, through the local stack (its instance model, the Redis store and the
 * emulator), as figures next to their goals:
 * - 16 concurrent bulk sends (timer invocations) of 2,000 recipients each at EMULATOR_QPS=50: upstream calls in
 *   the busiest second, throughput against the 2,500 recipients/s ceiling, throttled calls, each recipient once;
 * - the same with 200 single-recipient HTTP sends spread over the run: their p95 latency, none left owed;
 * - a quota lower than configured (UPSTREAM_QPS=50, emulator at 25): throttled calls after the first 2 s;
 * - Redis round trips per upstream call, counted by Redis itself (its slow log, set to log every command).
 * `tiny` runs a few sends only, so that the section cannot rot.
 */
import { createRedisClient, type RedisClient } from '../lib/redis/client.js';
import { startRedis, type RedisServer } from '../test/helpers/redis.js';
import { emulatorStats, invoke, ledger, postJson, reset, startStack, type Stack } from '../test/helpers/stack.js';

export interface QuotaRow {
  name: string;
  value: number;
  goal: string;
  met: boolean;
}

const QPS = 50;
const BURST = 10;
const PER_CALL = 50;
const SELLER = '3944837183';

interface Sizes {
  bulkSends: number;
  recipients: number;
  interactive: number;
  lowerSends: number;
}

const FULL: Sizes = { bulkSends: 16, recipients: 2000, interactive: 200, lowerSends: 8 };
const TINY: Sizes = { bulkSends: 4, recipients: 200, interactive: 10, lowerSends: 2 };

let uidBase = 1918000000000;
const uids = (n: number) => Array.from({ length: n }, () => String(uidBase++));
const body = (recipients: string[], requestId?: string) => ({
  SellerId: SELLER,
  TemplateId: '295873',
  ...(requestId === undefined ? {} : { RequestId: requestId }),
  FromApp: 'bench-quota',
  userAmountModelList: recipients.map((uid) => ({ uid, amount: 1 })),
});
let seq = 0;
const timerEvent = (recipients: string[]) => ({
  triggerTime: new Date().toISOString(),
  triggerName: `bench-quota-${process.pid}-${++seq}`,
  payload: JSON.stringify(body(recipients)),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

function p95(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] ?? NaN;
}

type Result = { status?: string };
const allSent = (json: unknown) =>
  Array.isArray((json as { userAmountModelList?: unknown })?.userAmountModelList) &&
  (json as { userAmountModelList: Result[] }).userAmountModelList.every((r) => r.status === 'SENT');

/**
 * Redis counts the scripts it runs: every command goes to the slow log while the threshold is 0. (Every write
 * of the function is a script; the few plain reads, such as a replay's HGETALL, are not counted.)
 */
async function countCommands(redis: RedisClient, run: () => Promise<void>): Promise<{ quota: number; all: number }> {
  await redis.call('CONFIG', 'SET', 'slowlog-max-len', '1000000');
  await redis.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
  await redis.call('SLOWLOG', 'RESET');
  await run();
  await redis.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  const entries = (await redis.call('SLOWLOG', 'GET', '-1')) as unknown[];
  await redis.call('SLOWLOG', 'RESET');
  let quota = 0;
  let all = 0;
  for (const entry of entries) {
    const args = (entry as unknown[])[3] as string[];
    const name = (args[0] ?? '').toUpperCase();
    // The log holds the commands scripts run too: only the scripts themselves are round trips.
    if (name !== 'EVALSHA' && name !== 'EVAL') continue;
    all += 1;
    if ((args[3] ?? '').startsWith('coupon:quota:')) quota += 1;
  }
  return { quota, all };
}

/** Sends `sends` bulk timer invocations at once; resolves with their answers and the wall time. */
async function bulkRun(stack: Stack, sizes: Sizes, sends: number) {
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: sends }, () => invoke(stack, 'coupon-timer', timerEvent(uids(sizes.recipients)))),
  );
  return { answers, seconds: (performance.now() - started) / 1000 };
}

async function issuedOnce(stack: Stack, expected: number): Promise<boolean> {
  const coupons = await ledger(stack);
  return coupons.length === expected && new Set(coupons.map((c) => c.uid)).size === expected;
}

export async function quotaBench(options: { tiny?: boolean } = {}): Promise<QuotaRow[]> {
  const sizes = options.tiny ? TINY : FULL;
  const redis: RedisServer = await startRedis();
  const admin = createRedisClient(redis.url, { commandTimeoutMs: 60_000 });
  const rows: QuotaRow[] = [];
  const ceiling = QPS * PER_CALL;
  const env = {
    IDEMPOTENCY_STORE: redis.url,
    LOCAL_MAX_INSTANCES: String(sizes.bulkSends),
    EMULATOR_QPS: String(QPS),
    UPSTREAM_QPS: String(QPS),
    UPSTREAM_BURST: String(BURST),
    FUNCTION_TIMEOUT_SECONDS: '120',
    MAX_RECIPIENTS: String(sizes.recipients),
    LOG_LEVEL: 'warn',
  };
  try {
    const stack = await startStack(env);
    try {
      // Bulk alone: the whole quota, shared by every instance.
      const total = sizes.bulkSends * sizes.recipients;
      let bulk: Awaited<ReturnType<typeof bulkRun>> | undefined;
      const commands = await countCommands(admin, async () => {
        bulk = await bulkRun(stack, sizes, sizes.bulkSends);
      });
      const stats = await emulatorStats(stack);
      const throughput = total / (bulk?.seconds ?? Infinity);
      const calls = stats['sendCoupon'] ?? 0;
      const once = (await issuedOnce(stack, total)) && (bulk?.answers ?? []).every((a) => allSent(a.json));
      rows.push(
        {
          name: `bulk: upstream calls in the busiest second (${sizes.bulkSends} × ${sizes.recipients} recipients)`,
          value: stats['maxCallsInAnySecond'] ?? NaN,
          goal: `≤ ${QPS + BURST} (quota ${QPS} + burst ${BURST})`,
          met: (stats['maxCallsInAnySecond'] ?? Infinity) <= QPS + BURST,
        },
        {
          name: `bulk: throughput, % of the ${ceiling} recipients/s ceiling`,
          value: round((throughput / ceiling) * 100, 1),
          goal: '≥ 90',
          met: throughput >= 0.9 * ceiling,
        },
        {
          name: 'bulk: throttled calls, %',
          value: round(((stats['throttled'] ?? 0) / Math.max(1, calls)) * 100),
          goal: '≤ 1',
          met: (stats['throttled'] ?? 0) <= 0.01 * calls,
        },
        {
          name: 'bulk: every recipient issued once, and answered SENT (1 = yes)',
          value: once ? 1 : 0,
          goal: '= 1',
          met: once,
        },
        {
          name: 'bulk: Redis round trips per upstream call, quota script',
          value: round(commands.quota / Math.max(1, calls)),
          goal: 'reported (1 per call; about 2 while bulk callers wait in line)',
          met: true,
        },
        {
          name: 'bulk: Redis round trips per upstream call, every script (quota and idempotency records)',
          value: round(commands.all / Math.max(1, calls)),
          goal: 'reported',
          met: true,
        },
      );

      // Interactive HTTP sends spread over a bulk run of the same size.
      await reset(stack);
      const latencies: number[] = [];
      let owed = 0;
      const spacing = ((sizes.bulkSends * sizes.recipients) / ceiling / sizes.interactive) * 1000;
      const clicks = async () => {
        await sleep(500);
        await Promise.all(
          Array.from({ length: sizes.interactive }, async (_, i) => {
            await sleep(i * spacing);
            const started = performance.now();
            const answer = await postJson(`${stack.gateway}/coupons`, body(uids(1), `bench-click-${process.pid}-${i}`));
            latencies.push(performance.now() - started);
            if (answer.status !== 200 || !allSent(answer.json)) owed += 1;
          }),
        );
      };
      const [loaded] = await Promise.all([bulkRun(stack, sizes, sizes.bulkSends), clicks()]);
      const loadedStats = await emulatorStats(stack);
      rows.push(
        {
          name: `interactive under bulk load: p95 latency of ${sizes.interactive} single-recipient HTTP sends, ms`,
          value: round(p95(latencies), 0),
          goal: '≤ 1000',
          met: p95(latencies) <= 1000,
        },
        { name: 'interactive under bulk load: sends left owed', value: owed, goal: '= 0', met: owed === 0 },
        {
          name: 'interactive under bulk load: upstream calls in the busiest second',
          value: loadedStats['maxCallsInAnySecond'] ?? NaN,
          goal: `≤ ${QPS + BURST}`,
          met: (loadedStats['maxCallsInAnySecond'] ?? Infinity) <= QPS + BURST,
        },
        {
          name: 'interactive under bulk load: every bulk recipient answered SENT (1 = yes)',
          value: loaded.answers.every((a) => allSent(a.json)) ? 1 : 0,
          goal: '= 1',
          met: loaded.answers.every((a) => allSent(a.json)),
        },
      );
    } finally {
      await stack.stop();
    }

    // The seller's quota is lower than configured: the shared rate must find it, for every instance at once.
    await admin.call('FLUSHALL');
    const lower = await startStack({ ...env, EMULATOR_QPS: String(QPS / 2) });
    try {
      const run = bulkRun(lower, sizes, sizes.lowerSends);
      await sleep(2000);
      const early = await emulatorStats(lower);
      const { answers } = await run;
      const late = await emulatorStats(lower);
      const calls = (late['sendCoupon'] ?? 0) - (early['sendCoupon'] ?? 0);
      const throttled = (late['throttled'] ?? 0) - (early['throttled'] ?? 0);
      rows.push(
        {
          name: `quota lower than configured (${QPS} vs ${QPS / 2}): throttled calls after the first 2 s, %`,
          value: round((throttled / Math.max(1, calls)) * 100),
          goal: '≤ 5',
          met: throttled <= 0.05 * calls,
        },
        {
          name: 'quota lower than configured: throttled calls in the first 2 s, %',
          value: round(((early['throttled'] ?? 0) / Math.max(1, early['sendCoupon'] ?? 0)) * 100),
          goal: 'reported',
          met: true,
        },
        {
          name: 'quota lower than configured: every recipient answered SENT (1 = yes)',
          value: answers.every((a) => allSent(a.json)) ? 1 : 0,
          goal: '= 1',
          met: answers.every((a) => allSent(a.json)),
        },
      );
    } finally {
      await lower.stop();
    }
  } finally {
    admin.disconnect();
    await redis.stop();
  }
  return rows;
}

/** For a quick look without the whole benchmark: `npx tsx bench/quota.ts [--tiny]`. */
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  quotaBench({ tiny: process.argv.includes('--tiny') }).then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${r.met ? 'met ' : 'MISS'} | ${r.name} | ${r.value} | ${r.goal}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
