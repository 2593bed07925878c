import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli, CLI_BUNDLE } from '../../scripts/build-cli.js';
import type { Stack } from './stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|js)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

let built: Promise<void> | undefined;

/** The bundle `npm ci` builds (bin/coupon.mjs), rebuilt first when any source is newer: tests run what ships. */
export function ensureCliBuilt(): Promise<void> {
  built ??= (async () => {
    const sources = Math.max(...['cli', 'lib', 'local'].map((d) => newestSource(join(root, d))));
    if (!existsSync(CLI_BUNDLE) || statSync(CLI_BUNDLE).mtimeMs < sources) await buildCli();
  })();
  return built;
}

/** Runs `coupon …` (bin/coupon.mjs, what `npx coupon` runs) against a stack, as an operator would. */
export async function coupon(
  stack: Pick<Stack, 'gateway' | 'emulator'>,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  await ensureCliBuilt();
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: new URL(stack.gateway).port,
      EMULATOR_PORT: new URL(stack.emulator).port,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
