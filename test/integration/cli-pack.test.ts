import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/*
 * The package as `npm pack` makes it (its `prepare` builds the bundle), unpacked where no node_modules can be
 * found, and its bin linked the way `npm install -g` links it: the command must work with Node alone.
 */
let dir: string;
let linked: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'coupon-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  expect(packed?.files.map((f) => f.path)).toContain('bin/coupon.mjs');
  await run('tar', ['xzf', join(dir, packed?.filename ?? ''), '-C', dir]);
  mkdirSync(join(dir, 'bin'));
  linked = join(dir, 'bin', 'coupon');
  symlinkSync(join(dir, 'package', 'bin', 'coupon.mjs'), linked);
}, 120_000);

const coupon = async (args: string[], env: Record<string, string> = {}) => {
  try {
    const { stdout, stderr } = await run(linked, args, {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', PORT: '1', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('the packed `coupon` command', () => {
  it('is the bundle, executable, and what the package names as its bin', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package', 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(manifest.bin).toEqual({ coupon: 'bin/coupon.mjs' });
    const bundle = join(dir, 'package', 'bin', 'coupon.mjs');
    expect(readFileSync(bundle, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(bundle).mode & 0o111).not.toBe(0);
  });

  it('answers --help without tsx or any node_modules', async () => {
    const help = await coupon(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: coupon <command>/);
  });

  it('runs a command end to end: a dry run decodes and validates with the bundled code', async () => {
    const dry = await coupon([
      'send',
      '--request-id',
      'p1',
      '--template',
      '7',
      '--seller',
      '3',
      '--from-app',
      'a',
      '--uid',
      '9:1.5',
      '--dry-run',
      '--json',
    ]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, operations: [{ RequestId: 'p1' }] });
  });

  it('says plainly when there is no stack to talk to (exit 1)', async () => {
    const status = await coupon(['status', '--request-id', 'p1']);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/the local stack does not answer at http:\/\/127\.0\.0\.1:1\//);
  });
});
