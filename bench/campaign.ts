/**
 * The campaign sections of `npm run bench`: a list of 1,000,000 recipients run to COMPLETED through the `coupon`
 * command on the local stack (instance processes, Redis store, an emulator limited to EMULATOR_QPS=50, i.e. a
 * ceiling of 2,500 recipients a second at 50 a call), and a chaos run of 200,000 recipients while three chunk
 * instances are killed mid-send. Every figure comes from a real part: the emulator's ledger (who got a coupon,
 * how often), /proc (each instance's peak RSS, VmHWM), Redis INFO memory, and the campaign's own counts.
 * `tiny` runs 2,000 recipients so the test suite can keep these sections from rotting.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildAll } from '../scripts/build.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../local/emulator/defaults.js';
import { startEmulator, type Emulator } from '../local/emulator/server.js';
import type { Counts } from '../lib/campaigns/state.js';
import { connectRedis } from '../lib/redis/connect.js';
import { coupon } from '../test/helpers/cli.js';
import { ossEndpointOf, writeRecipientsCsv } from '../test/helpers/campaign.js';
import { startRedis, type RedisServer } from '../test/helpers/redis.js';
import { instances, startStack, type Stack } from '../test/helpers/stack.js';

/** One figure and its goal, as bench/run.ts tabulates them. */
export interface BenchRow {
  name: string;
  value: number;
  goal: string;
  met: boolean;
}

export interface CampaignBenchOptions {
  /** 2,000 recipients instead of the full size. */
  tiny?: boolean;
  /** Where the lists are written (default: a new temp dir). */
  work?: string;
  /** Progress for the person running the bench (stderr). */
  log?: (line: string) => void;
  /**
   * What the stack's instances run: the built bundles (dist/, what is deployed; built here first) or the
   * TypeScript sources under tsx, whose transpiler adds tens of MB to every instance. Default: dist, but sources
   * in tiny mode, which must not rebuild dist/ under tests that may be reading it.
   */
  functions?: 'dist' | 'src';
}

const EMULATOR_QPS = 50;
const RECIPIENTS_PER_CALL = 50;
const CEILING = EMULATOR_QPS * RECIPIENTS_PER_CALL;
const RSS_GOAL_MB = 128;
const KILLS = 3;
const root = fileURLToPath(new URL('..', import.meta.url));
const KEY = { accessKeyId: DEFAULT_EMULATOR_KEY_ID, accessKeySecret: DEFAULT_EMULATOR_KEY_SECRET };

/** What a function's instances are for, from its name: the chunk worker, the planner, or the HTTP entry. */
type Role = 'chunk' | 'planner' | 'http' | 'other';
const roleOf = (fn: string): Role =>
  /chunk/i.test(fn) ? 'chunk' : /plan|campaign/i.test(fn) ? 'planner' : fn === 'coupon-http' ? 'http' : 'other';

/** A process's peak resident set (VmHWM) in MB, from /proc; undefined once it is gone. */
function peakRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Samples every instance of the stack while the campaign runs: the highest peak RSS seen per function, and the
 * peak its instances had at the first sample (prewarmed, before the campaign: the instance's own cost).
 */
function rssSampler(stack: Stack) {
  const peaks = new Map<string, number>();
  const idle = new Map<string, number>();
  let first = true;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        for (const i of await instances(stack)) {
          const mb = peakRssMb(i.pid);
          if (mb === undefined) continue;
          peaks.set(i.function, Math.max(peaks.get(i.function) ?? 0, mb));
          if (first) idle.set(i.function, Math.max(idle.get(i.function) ?? 0, mb));
        }
        first = false;
      } catch {
        // a poll that failed (the gateway busy) is taken again on the next round
      }
      await sleep(250);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
    /** Each function with this role that ran: its highest peak RSS and its idle instance's. */
    of(role: Role): Array<{ fn: string; mb: number; idleMb: number | undefined }> {
      return [...peaks].filter(([fn]) => roleOf(fn) === role).map(([fn, mb]) => ({ fn, mb, idleMb: idle.get(fn) }));
    },
  };
}

async function usedMemory(url: string): Promise<number> {
  const client = await connectRedis(url);
  try {
    const info = String(await client.call('INFO', 'memory'));
    return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
  } finally {
    client.disconnect();
  }
}

interface Progress extends Counts {
  campaignId: string;
  state: string;
}

/** Every coupon of the campaign by recipient index (the list's uids are base + i): issued once, or how often. */
function ledgerCheck(emulator: Emulator, campaignId: string, base: bigint, n: number) {
  const times = new Uint8Array(n);
  let coupons = 0;
  let foreign = 0;
  for (const c of emulator.ledger.list()) {
    if (!c.requestId.startsWith(`${campaignId}:`)) continue;
    coupons += 1;
    const i = Number(BigInt(c.uid) - base);
    if (!(i >= 0 && i < n)) foreign += 1;
    else times[i] = Math.min(255, (times[i] ?? 0) + 1);
  }
  let once = 0;
  let duplicates = 0;
  for (const t of times) {
    if (t === 1) once += 1;
    if (t > 1) duplicates += t - 1;
  }
  return { coupons, once, duplicates, foreign };
}

const row = (name: string, value: number, goal: string, met: boolean): BenchRow => ({
  name,
  value: Math.round(value * 100) / 100,
  goal,
  met,
});

interface RunResult {
  rows: BenchRow[];
}

/**
 * One campaign through the CLI on a fresh stack: start, `status --watch` until a final state, then the figures.
 * `kills` instances of the chunk function are SIGKILLed while it sends, at evenly spaced points of progress.
 */
async function runCampaign(label: string, n: number, kills: number, o: CampaignBenchOptions): Promise<RunResult> {
  const log = o.log ?? (() => undefined);
  const work = o.work ?? mkdtempSync(join(tmpdir(), 'coupon-bench-campaign-'));
  const qps = o.tiny && kills > 0 ? 10 : EMULATOR_QPS;
  const functions = o.functions ?? (o.tiny ? 'src' : 'dist');
  if (functions === 'dist') {
    log(`${label}: building dist/`);
    await buildAll(`${root}dist`);
  }
  let redis: RedisServer | undefined;
  let emulator: Emulator | undefined;
  let stack: Stack | undefined;
  try {
    redis = await startRedis();
    emulator = await startEmulator({ ...KEY, qps });
    stack = await startStack({
      IDEMPOTENCY_STORE: redis.url,
      RESELLERTRADE_ENDPOINT: emulator.url,
      UPSTREAM_QPS: String(qps),
      // No interactive sends run beside the campaign: bulk work may take the whole quota.
      BULK_SHARE: '1',
      CHUNK_SIZE: String(RECIPIENTS_PER_CALL),
      OSS_PORT: '0',
      LOG_LEVEL: 'warn',
      LOCAL_FUNCTIONS: functions,
    });
    const ossEndpoint = ossEndpointOf(stack);
    if (ossEndpoint === undefined)
      return { rows: [row(`${label}: not run, the stack's ready line names no OSS endpoint`, NaN, 'runs', false)] };
    const env = { OSS_ENDPOINT: ossEndpoint, UPSTREAM_QPS: String(qps), BULK_SHARE: '1' };
    const seed = Date.now() % 1000;
    const base = 1_918_000_000_000_000_000n + BigInt(seed) * 10_000_000n;
    log(`${label}: writing ${n} recipients`);
    const list = await writeRecipientsCsv(join(work, `${label.replace(/\W+/g, '-')}.csv`), n, { seed });

    const redisBefore = await usedMemory(redis.url);
    const sampler = rssSampler(stack);
    const startedAt = performance.now();
    const started = await coupon(
      stack,
      [
        'campaign',
        'start',
        '--template',
        '295873',
        '--seller',
        '3944837183',
        '--from-app',
        'bench',
        '--file',
        list.path,
      ],
      env,
    );
    if (started.code !== 0) {
      await sampler.stop();
      throw new Error(`${label}: coupon campaign start exited ${started.code}: ${started.stderr.slice(0, 500)}`);
    }
    const campaignId = started.stdout.trim();
    const acceptedAt = performance.now();
    log(`${label}: ${campaignId} started in ${Math.round(acceptedAt - startedAt)} ms`);

    const killed: number[] = [];
    const watching = coupon(stack, ['campaign', 'status', campaignId, '--watch', '--interval', '0.5'], env);
    let finished = false;
    void watching.then(() => (finished = true));
    if (kills > 0) {
      for (let k = 1; k <= kills && !finished;) {
        const due = Math.floor((n * k) / (kills + 1));
        const issued = emulator.ledger.list().length;
        const busy = (await instances(stack)).filter((i) => i.state === 'busy' && roleOf(i.function) !== 'http');
        const target = busy.find((i) => roleOf(i.function) === 'chunk') ?? busy[0];
        if (issued >= due && target) {
          try {
            process.kill(target.pid, 'SIGKILL');
            killed.push(target.pid);
            log(`${label}: killed ${target.function} instance ${target.pid} at ${issued} coupons`);
            k += 1;
          } catch {
            // it ended on its own just now: take the next busy one
          }
        }
        await sleep(100);
      }
    }
    // A campaign that never finishes must not hang the bench: three times the time at the ceiling, plus a margin.
    const deadlineMs = ((3 * n) / (CEILING * (qps / EMULATOR_QPS))) * 1000 + 120_000;
    const deadline = new AbortController();
    const watched = await Promise.race([
      watching,
      sleep(deadlineMs, undefined, { signal: deadline.signal }).then(
        () => ({ code: null, stdout: '', stderr: 'deadline' }),
        () => ({ code: null, stdout: '', stderr: 'aborted' }),
      ),
    ]);
    deadline.abort();
    const doneAt = performance.now();
    await sampler.stop();
    const status = await coupon(stack, ['campaign', 'status', campaignId, '--json'], env);
    const counts = JSON.parse(status.stdout) as Progress;
    const redisAfter = await usedMemory(redis.url);
    const ledger = ledgerCheck(emulator, campaignId, base, n);
    const seconds = (doneAt - acceptedAt) / 1000;
    log(`${label}: ${counts.state} after ${Math.round(seconds)} s (watch exit ${watched.code})`);
    // coupon-http reads the whole list once to admit it (POST /campaigns); the planner reads it again to submit.
    const rssRows = (what: string, measured: ReturnType<typeof sampler.of>): BenchRow[] =>
      measured.length === 0
        ? [row(`${label}: ${what} peak RSS, MB (no such instance seen)`, NaN, `≤ ${RSS_GOAL_MB}`, false)]
        : measured.map((m) =>
            row(
              `${label}: ${what} peak RSS, MB (${m.fn}; an idle instance ${m.idleMb === undefined ? '?' : Math.round(m.idleMb)} MB; ${functions})`,
              m.mb,
              `≤ ${RSS_GOAL_MB}`,
              m.mb <= RSS_GOAL_MB,
            ),
          );
    const outcomes = counts.sent + counts.failed + counts.unknown;
    const rows = [
      row(`${label}: duplicate coupons (emulator ledger by uid)`, ledger.duplicates, '0', ledger.duplicates === 0),
      row(
        `${label}: outcomes SENT + FAILED + UNKNOWN of ${n}`,
        outcomes,
        `= ${n}, none pending`,
        outcomes === n && counts.pending === 0,
      ),
      row(
        `${label}: final state ${counts.state}`,
        counts.state === 'COMPLETED' ? 1 : 0,
        'COMPLETED',
        counts.state === 'COMPLETED',
      ),
    ];
    if (kills > 0) {
      rows.push(row(`${label}: instances killed mid-send`, killed.length, `${kills}`, killed.length === kills));
      rows.push(
        row(
          `${label}: coupons issued ≥ SENT`,
          ledger.coupons,
          `≥ ${counts.sent}`,
          ledger.coupons >= counts.sent && ledger.foreign === 0,
        ),
      );
      return { rows };
    }
    rows.unshift(
      row(`${label}: recipients issued exactly once`, ledger.once, `= ${n}`, ledger.once === n && ledger.coupons === n),
    );
    const rate = n / seconds;
    rows.push(
      row(
        `${label}: throughput, start accepted to COMPLETED (recipients/s; ceiling ${CEILING * (qps / EMULATOR_QPS)}/s)`,
        rate,
        `≥ ${0.9 * CEILING * (qps / EMULATOR_QPS)}`,
        rate >= 0.9 * CEILING * (qps / EMULATOR_QPS),
      ),
      ...rssRows('planning', [...sampler.of('http'), ...sampler.of('planner')]),
      ...rssRows('chunk instance', sampler.of('chunk')),
      row(
        `${label}: Redis memory per recipient, bytes (INFO used_memory after − before)`,
        (redisAfter - redisBefore) / n,
        'reported',
        true,
      ),
      row(`${label}: start command (check, upload, POST), ms`, acceptedAt - startedAt, 'reported', true),
    );
    return { rows };
  } finally {
    await stack?.stop().catch(() => undefined);
    await emulator?.close();
    await redis?.stop();
  }
}

/** 1,000,000 recipients (2,000 in tiny mode) at EMULATOR_QPS=50: issued once each, throughput, memory. */
export async function benchCampaignMillion(o: CampaignBenchOptions = {}): Promise<BenchRow[]> {
  const n = o.tiny ? 2_000 : 1_000_000;
  return (await runCampaign(`campaign ${n.toLocaleString('en-US')}`, n, 0, o)).rows;
}

/** 200,000 recipients (2,000 in tiny mode, at EMULATOR_QPS=10) while three chunk instances are killed mid-send. */
export async function benchCampaignChaos(o: CampaignBenchOptions = {}): Promise<BenchRow[]> {
  const n = o.tiny ? 2_000 : 200_000;
  return (await runCampaign(`chaos ${n.toLocaleString('en-US')}`, n, KILLS, o)).rows;
}

/** The rows as a Markdown table, for bench/RESULTS.md. */
export function renderCampaignRows(rows: readonly BenchRow[]): string {
  return [
    '| figure | measured | goal | met |',
    '|---|---:|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.value} | ${r.goal} | ${r.met ? 'yes' : 'NO'} |`),
    '',
  ].join('\n');
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const tiny = process.argv.includes('--tiny');
  const log = (line: string) => void process.stderr.write(`${line}\n`);
  const rows = [...(await benchCampaignMillion({ tiny, log })), ...(await benchCampaignChaos({ tiny, log }))];
  process.stdout.write(`${renderCampaignRows(rows)}\n${JSON.stringify(rows)}\n`);
}
