/**
 * s.yaml as Serverless Devs renders it (its own `s preview`, offline), checked against the fc3 component's JSON
 * schema (test/fixtures/fc3-schema.json: devsapp/fc3 src/schema.json at 4ca1c1b, published as fc3 0.1.22, the
 * version s.yaml pins), against FC 3.0's own API structures (the @alicloud/fc20230330 models, since fc3's schema
 * accepts any trigger config), against the bundles the build writes, and against the configuration the code accepts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from '@alicloud/fc20230330';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS } from '../../functions/manifest.js';
import { campaignSettings } from '../../lib/campaigns/settings.js';
import { LONGEST_FUNCTION_TIMEOUT_SECONDS, loadConfig } from '../../lib/config.js';
import { decodeSendRequest } from '../../lib/request/decode.js';
import { decodeTimer } from '../../lib/triggers/timer.js';
import { buildAll } from '../../scripts/build.js';
import { REDIS_CA_FILE_NAME } from '../../scripts/ca-bundle.js';

interface Props {
  functionName: string;
  code: string;
  handler: string;
  role: string;
  timeout: number;
  environmentVariables: Record<string, string>;
  asyncInvokeConfig?: { maxAsyncEventAgeInSeconds: number; destinationConfig: { onFailure: { destination: string } } };
  triggers?: Array<{ triggerType: string; triggerConfig: Record<string, unknown> }>;
  [prop: string]: unknown;
}

/** What a deployer exports (README "Deploy"); everything else takes s.yaml's defaults. */
const DEPLOY_ENV: Record<string, string> = {
  COUPON_FUNCTION_ROLE_ARN: 'acs:ram::1234567890123456:role/coupon-sender',
  IDEMPOTENCY_STORE: 'redis://coupon:pw@r-bp1.redis.rds.aliyuncs.com:6379',
  COUPON_SLS_PROJECT: 'coupon-logs',
  COUPON_FAILURE_DESTINATION: 'acs:mns:cn-hangzhou:1234567890123456:/queues/coupon-failures/messages',
  COUPON_VPC_ID: 'vpc-bp1',
  COUPON_VSWITCH_IDS: 'vsw-bp1,vsw-bp2',
  COUPON_SECURITY_GROUP_ID: 'sg-bp1',
  SELLER_ID: '3944837183',
};

const text = readFileSync(new URL('../../s.yaml', import.meta.url), 'utf8');
/** Every variable s.yaml reads from the deploying shell. */
const readsFromEnv = [...text.matchAll(/\$\{env\('([A-Z0-9_]+)'/g)].map((m) => m[1] as string);

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Rendered {
  edition: string;
  vars: Record<string, unknown>;
  resources: Record<string, { component: string; props: Props }>;
}

/** `s preview -o json`: Serverless Devs' own rendering of s.yaml with `env` as the deploying shell's variables. */
function preview(env: Record<string, string>): Rendered {
  const out = spawnSync(`${root}node_modules/.bin/s`, ['preview', '-o', 'json'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? root, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const json = out.stdout.slice(out.stdout.indexOf('{'));
  if (out.status !== 0 || !json) throw new Error(`s preview failed: ${out.stdout}${out.stderr}`);
  return JSON.parse(json) as Rendered;
}

const rendered = preview(DEPLOY_ENV);
const resources = rendered.resources;

/** The keys an FC 3.0 API structure defines (the SDK's model of it), for refusing anything else. */
const apiKeys = (model: { names(): Record<string, string> }) => Object.keys(model.names());

function unknownKeys(where: string, value: object, model: { names(): Record<string, string> }): string[] {
  const known = apiKeys(model);
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((k) => `${where}: ${k} is not a field of the FC 3.0 API`);
}

describe('s.yaml', () => {
  it('deploys each function of the manifest with the fc3 component, one role, nodejs20', () => {
    expect(rendered.edition).toBe('3.0.0');
    expect(Object.keys(resources).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    const roles = new Set(Object.values(resources).map((r) => r.props.role));
    expect(roles).toEqual(new Set([DEPLOY_ENV['COUPON_FUNCTION_ROLE_ARN']]));
    for (const r of Object.values(resources))
      expect(r).toMatchObject({ component: 'fc3@0.1.22', props: { runtime: 'nodejs20' } });
  });

  it("satisfies the fc3 component's own schema for every function and trigger", () => {
    const schema = JSON.parse(readFileSync(new URL('../fixtures/fc3-schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    for (const [name, r] of Object.entries(resources)) {
      const ok = validate(r.props);
      expect(ok ? [] : validate.errors?.map((e) => `${name}${e.instancePath} ${e.message}`)).toEqual([]);
    }
  });

  it('points every code: and handler at a bundle the build writes, exporting that handler', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dist-'));
    await buildAll(out);
    for (const [name, r] of Object.entries(resources)) {
      expect(r.props.code).toBe(`./dist/${name}`);
      const [file, exported] = r.props.handler.split('.');
      const mod = (await import(join(out, name, `${file}.mjs`))) as Record<string, unknown>;
      expect(typeof mod[exported ?? '']).toBe('function');
    }
  });

  it("checks every trigger and async configuration against the FC 3.0 API's own structures", () => {
    const configOf: Record<string, { names(): Record<string, string> }> = {
      http: fc.HTTPTriggerConfig,
      timer: fc.TimerTriggerConfig,
      eventbridge: fc.EventBridgeTriggerConfig,
    };
    const problems: string[] = [];
    for (const [name, r] of Object.entries(resources)) {
      for (const t of r.props.triggers ?? []) {
        const { triggerConfig, ...trigger } = t;
        problems.push(...unknownKeys(`${name} trigger`, trigger, fc.CreateTriggerInput));
        const model = configOf[t.triggerType];
        if (!model) problems.push(`${name}: trigger type ${t.triggerType} is not used by this project`);
        else problems.push(...unknownKeys(`${name} ${t.triggerType} triggerConfig`, triggerConfig, model));
        const types = (model as unknown as { types(): Record<string, unknown> }).types();
        for (const [k, v] of Object.entries(triggerConfig)) {
          const type = types[k];
          if (type === 'string' && typeof v !== 'string') problems.push(`${name} ${k}: must be a string`);
          if (type === 'boolean' && typeof v !== 'boolean') problems.push(`${name} ${k}: must be a boolean`);
        }
      }
      if (r.props.asyncInvokeConfig)
        problems.push(
          ...unknownKeys(`${name} asyncInvokeConfig`, r.props.asyncInvokeConfig, fc.PutAsyncInvokeConfigInput),
        );
    }
    expect(problems).toEqual([]);
  });

  it('trusts the CA bundle the build copies into the package exactly when COUPON_REDIS_CA_FILE is set', () => {
    for (const r of Object.values(resources)) expect(r.props.environmentVariables['NODE_EXTRA_CA_CERTS']).toBe('');
    const withCa = preview({ ...DEPLOY_ENV, COUPON_REDIS_CA_FILE: '/tmp/ca.pem' });
    for (const r of Object.values(withCa.resources))
      expect(r.props.environmentVariables['NODE_EXTRA_CA_CERTS']).toBe(`/code/${REDIS_CA_FILE_NAME}`);
  });

  it('sets only variables the code (or Node itself) reads, each valid as rendered', () => {
    const read = new Set<string>(['NODE_EXTRA_CA_CERTS']);
    const reader = new Proxy({}, { get: (_t, key) => (read.add(String(key)), undefined) });
    loadConfig(reader);
    campaignSettings(reader);
    for (const r of Object.values(resources)) {
      for (const name of Object.keys(r.props.environmentVariables)) expect(read).toContain(name);
      expect(() =>
        loadConfig({ ...r.props.environmentVariables, FC_FUNCTION_NAME: 'x', FC_REGION: 'cn-hangzhou' }),
      ).not.toThrow();
    }
  });

  it('reads only variables docs/deploy.md names', () => {
    const readme = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    for (const name of new Set(readsFromEnv)) expect(readme).toContain(`\`${name}\``);
  });

  it('has the HTTP trigger (signature auth) and a disabled timer; events come through the bus rule, asynchronously', () => {
    const triggerOf = (name: string) => resources[name]?.props.triggers?.[0];
    expect(triggerOf('coupon-http')).toMatchObject({ triggerType: 'http', triggerConfig: { authType: 'function' } });
    expect(resources['coupon-event']?.props.triggers).toBeUndefined();
    expect(resources['coupon-event']?.props.asyncInvokeConfig?.destinationConfig.onFailure.destination).toBe(
      DEPLOY_ENV['COUPON_FAILURE_DESTINATION'],
    );
    expect(triggerOf('coupon-timer')).toMatchObject({
      triggerType: 'timer',
      triggerConfig: { enable: false, payload: '' },
    });
  });

  it('takes the timer payload from COUPON_TIMER_PAYLOAD, and a valid one decodes to one operation', () => {
    const payload = JSON.stringify({
      SellerId: '3944837183',
      TemplateId: '295873',
      FromApp: 'nightly',
      userAmountModelList: [{ uid: '1918000000883', amount: 1 }],
    });
    const timer = preview({ ...DEPLOY_ENV, COUPON_TIMER_PAYLOAD: payload }).resources['coupon-timer']?.props
      .triggers?.[0]?.triggerConfig;
    const delivery = decodeTimer(
      Buffer.from(
        JSON.stringify({ triggerTime: '2026-12-01T02:00:00Z', triggerName: 'nightly', payload: timer?.['payload'] }),
      ),
    );
    if ('refused' in delivery) throw delivery.refused;
    expect(
      decodeSendRequest(delivery.value, { maxCouponAmount: 10000, maxRecipients: 10000 }, delivery.rule).items,
    ).toHaveLength(1);
  });

  it('reaches Redis through the VPC, and retries async invocations within the idempotency TTL', () => {
    for (const name of Object.keys(resources)) {
      const p = resources[name]?.props as Props;
      expect(p['vpcConfig']).toEqual({
        vpcId: 'vpc-bp1',
        vSwitchIds: ['vsw-bp1', 'vsw-bp2'],
        securityGroupId: 'sg-bp1',
      });
      expect(p.timeout).toBeLessThanOrEqual(LONGEST_FUNCTION_TIMEOUT_SECONDS);
      if (p.asyncInvokeConfig) {
        expect(p.asyncInvokeConfig.maxAsyncEventAgeInSeconds).toBeLessThan(
          Number(p.environmentVariables['IDEMPOTENCY_TTL_SECONDS']),
        );
        expect(p.asyncInvokeConfig.destinationConfig.onFailure.destination).toBe(
          DEPLOY_ENV['COUPON_FAILURE_DESTINATION'],
        );
      }
    }
    expect(() => loadConfig({ IDEMPOTENCY_TTL_SECONDS: String(LONGEST_FUNCTION_TIMEOUT_SECONDS - 1) })).toThrow(
      /IDEMPOTENCY_TTL_SECONDS/,
    );
  });
});
