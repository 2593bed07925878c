/**
 * `npm start` as a person runs it: killed by its pid (npm's, not the stack's own), it leaves nothing listening;
 * LOG_FORMAT=pretty prints readable lines; the ready line says whether dry run and caller checks are on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Runs `npm start` and resolves with the first stdout line that matches `ready`. */
function npmStart(env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn('npm', ['start', '--silent'], {
    cwd: root,
    env: { ...process.env, PORT: '0', EMULATOR_PORT: '0', OSS_PORT: '0', LOCAL_INSTANCE_PREWARM: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line });
      }
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
  });
}

async function refusedWithin(url: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(500) });
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('npm start', () => {
  it('stops when npm itself is killed (SIGKILL of its pid): nothing is left listening', async () => {
    const { child, line } = await npmStart({}, /"msg":"ready"/);
    const ready = JSON.parse(line) as { gateway: string; emulator: string; dryRun: boolean; callerAuth: string };
    expect(ready).toMatchObject({ dryRun: false, callerAuth: 'anonymous' });
    expect((await fetch(`${ready.gateway}/healthz`)).status).toBe(200);
    child.kill('SIGKILL');
    expect(await refusedWithin(ready.gateway, 10_000)).toBe(true);
    expect(await refusedWithin(ready.emulator, 2_000)).toBe(true);
  });

  it('prints readable lines with LOG_FORMAT=pretty, and says dry run is on', async () => {
    const { child, line } = await npmStart({ LOG_FORMAT: 'pretty', DRY_RUN: 'true' }, / ready /);
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  ready  gateway=http:\/\/127\.0\.0\.1:\d+ /);
    expect(line).toContain('dryRun=true');
    child.kill('SIGTERM');
  });

  it('refuses an unknown LOG_FORMAT, naming it', async () => {
    await expect(npmStart({ LOG_FORMAT: 'yaml' }, /ready/)).rejects.toThrow(/exited with/);
  });
});
