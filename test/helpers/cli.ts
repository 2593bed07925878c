import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Stack } from './stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `coupon …` (bin/coupon.mjs, what `npx coupon` runs) against a stack, as an operator would. */
export function coupon(
  stack: Pick<Stack, 'gateway' | 'emulator'>,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, ['bin/coupon.mjs', ...args], {
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
