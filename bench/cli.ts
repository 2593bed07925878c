/**
 * The `coupon` command's start-up: wall time from spawn to exit of `coupon --help` and `coupon send --help`
 * (the built bundle, bin/coupon.mjs, exactly as `npx coupon` runs it), beside a bare `node -e 0`, interleaved
 * so the machine's load falls on every row alike. The goal: `coupon --help` in ≤ 150 ms (median).
 */
import { spawn } from 'node:child_process';
import { buildCli, CLI_BUNDLE } from '../scripts/build-cli.js';

export interface CliBenchRow {
  row: string;
  medianMs: number;
  p90Ms: number;
  n: number;
}

export interface CliBench {
  rows: CliBenchRow[];
  bundleKiB: number;
  goal: { goal: string; target: string; measured: number; met: boolean };
}

export const CLI_HELP_GOAL_MS = 150;

function timed(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '' }, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`${args.join(' ')} exited ${code}`)),
    );
  });
}

const quantile = (values: number[], q: number): number => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/** Builds the bundle, then times `runs` processes per row; gives the rows and the goal's verdict. */
export async function benchCli(runs = 25): Promise<CliBench> {
  const bytes = await buildCli();
  const rows: Array<[string, string[]]> = [
    ['bare node (node -e 0)', ['-e', '0']],
    ['coupon --help', [CLI_BUNDLE, '--help']],
    ['coupon send --help', [CLI_BUNDLE, 'send', '--help']],
  ];
  const series = rows.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, [, args]] of rows.entries()) series[j]?.push(await timed(args));
  }
  const measured = rows.map(([row], j) => {
    const values = series[j] ?? [];
    const r = (n: number) => Math.round(n * 10) / 10;
    return { row, medianMs: r(quantile(values, 0.5)), p90Ms: r(quantile(values, 0.9)), n: values.length };
  });
  const help = measured[1]?.medianMs ?? NaN;
  return {
    rows: measured,
    bundleKiB: Math.round(bytes / 102.4) / 10,
    goal: {
      goal: 'coupon --help',
      target: `≤ ${CLI_HELP_GOAL_MS} ms (median)`,
      measured: help,
      met: help <= CLI_HELP_GOAL_MS,
    },
  };
}

/** The section as Markdown, for bench/RESULTS.md. */
export function renderCliBench(b: CliBench): string {
  return [
    `## CLI start-up (spawn to exit, bin/coupon.mjs, ${b.bundleKiB} KiB; ${b.rows[0]?.n ?? 0} processes per row, interleaved)`,
    '',
    '| row | median ms | p90 ms |',
    '|---|---:|---:|',
    ...b.rows.map((r) => `| ${r.row} | ${r.medianMs} | ${r.p90Ms} |`),
    '',
  ].join('\n');
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const result = await benchCli(process.argv.includes('--tiny') ? 3 : 25);
  process.stdout.write(`${renderCliBench(result)}\n${JSON.stringify(result.goal)}\n`);
}
