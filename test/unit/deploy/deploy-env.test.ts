import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEPLOY_VARIABLES, deployProblems } from '../../../scripts/deploy-env.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

const COMPLETE: Record<string, string> = {
  COUPON_FUNCTION_ROLE_ARN: 'acs:ram::1234567890123456:role/coupon-sender',
  IDEMPOTENCY_STORE: 'redis://coupon:pw@r-bp1.redis.rds.aliyuncs.com:6379',
  SELLER_ID: '3944837183',
  FROM_APP: 'my-shop',
  COUPON_SLS_PROJECT: 'coupon-sender-1234567890123456',
  COUPON_FAILURE_DESTINATION: 'acs:mns:cn-hangzhou:1234567890123456:/queues/coupon-failures/messages',
  COUPON_VPC_ID: 'vpc-bp1',
  COUPON_VSWITCH_IDS: 'vsw-bp1,vsw-bp2',
  COUPON_SECURITY_GROUP_ID: 'sg-bp1',
};

const without = (name: string) => Object.fromEntries(Object.entries(COMPLETE).filter(([k]) => k !== name));

describe('the deploy check (scripts/deploy-env.ts)', () => {
  it('passes a complete shell', () => {
    expect(deployProblems(COMPLETE)).toEqual([]);
  });

  it.each(DEPLOY_VARIABLES.filter((v) => v.required).map((v) => v.name))('refuses a shell without %s', (name) => {
    const problems = deployProblems(without(name));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name} is required`));
  });

  it.each([
    ['COUPON_FUNCTION_ROLE_ARN', 'coupon-sender'],
    ['IDEMPOTENCY_STORE', 'memory'],
    ['SELLER_ID', '007'],
    ['COUPON_VSWITCH_IDS', 'vsw-bp1, vsw-bp2'],
    ['COUPON_FAILURE_DESTINATION', 'acs:mns:cn-hangzhou:1:/queues/coupon-failures'],
    ['DRY_RUN', 'yes'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(deployProblems({ ...COMPLETE, [name]: value })).toEqual([
      expect.stringMatching(new RegExp(`^${name} is not valid`)),
    ]);
  });

  it('lists exactly the variables s.yaml reads, and docs/deploy.md explains each', () => {
    const sYaml = readFileSync(`${root}s.yaml`, 'utf8');
    const read = new Set([...sYaml.matchAll(/\$\{env\('([A-Z0-9_]+)'/g)].map((m) => m[1]));
    expect([...read].sort()).toEqual(DEPLOY_VARIABLES.map((v) => v.name).sort());
    const doc = readFileSync(`${root}docs/deploy.md`, 'utf8');
    for (const v of DEPLOY_VARIABLES) expect(doc).toContain(`\`${v.name}\``);
  });

  it('npm run deploy refuses a missing variable by name before building anything', () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/deploy.ts', '--check'], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', ...without('IDEMPOTENCY_STORE') },
      encoding: 'utf8',
    });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('IDEMPOTENCY_STORE is required');
    expect(out.stderr).toContain('nothing was built or uploaded');
    const ok = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/deploy.ts', '--check'], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', ...COMPLETE, DRY_RUN: 'true' },
      encoding: 'utf8',
    });
    expect(ok.status).toBe(0);
  });
});
