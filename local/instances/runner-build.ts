import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const RUNNER_SOURCE = fileURLToPath(new URL('./runner.ts', import.meta.url));

export interface RunnerStart {
  runner: string;
  execArgv: string[];
}

/**
 * How an instance process starts. With the TypeScript sources, node loads tsx for the runner and the function.
 * With the built bundles (LOCAL_FUNCTIONS=dist), the runner is built to plain JavaScript first, so an instance
 * loads nothing FC's runtime would not: its memory and start-up are the deployed function's, not tsx's.
 */
export async function runnerStart(source: 'src' | 'dist'): Promise<RunnerStart> {
  if (source === 'src') return { runner: RUNNER_SOURCE, execArgv: ['--import', 'tsx'] };
  const outfile = join(mkdtempSync(join(tmpdir(), 'coupon-runner-')), 'runner.mjs');
  await build({
    entryPoints: [RUNNER_SOURCE],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  return { runner: outfile, execArgv: [] };
}
