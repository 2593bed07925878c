/**
 * s.yaml as Serverless Devs would render it, checked against the fc3 component's own JSON schema
 * (test/fixtures/fc3-schema.json: devsapp/fc3 src/schema.json at 4ca1c1b), against the bundles the build writes,
 * and against the configuration the code accepts.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTIONS } from '../../functions/manifest.js';
import { LONGEST_FUNCTION_TIMEOUT_SECONDS, loadConfig } from '../../lib/config.js';
import { decodeSendRequest } from '../../lib/request/decode.js';
import { decodeTimer } from '../../lib/triggers/timer.js';
import { buildAll } from '../../scripts/build.js';

interface Props {
  functionName: string;
  code: string;
  handler: string;
  role: string;
  timeout: number;
  environmentVariables: Record<string, string>;
  asyncInvokeConfig?: { maxAsyncEventAgeInSeconds: number; destinationConfig: { onFailure: { destination: string } } };
  triggers: Array<{ triggerType: string; triggerConfig: Record<string, unknown> }>;
  [prop: string]: unknown;
}

/** What a deployer exports (README "Deploy"); everything else takes s.yaml's defaults. */
const DEPLOY_ENV: Record<string, string> = {
  COUPON_FUNCTION_ROLE_ARN: 'acs:ram::1234567890123456:role/coupon-sender',
  IDEMPOTENCY_STORE: 'redis://coupon:pw@r-bp1.redis.rds.aliyuncs.com:6379',
  COUPON_SLS_PROJECT: 'coupon-logs',
  COUPON_FAILURE_DESTINATION: 'acs:mns:cn-hangzhou:1234567890123456:/queues/coupon-failures/messages',
  COUPON_DEAD_LETTER_QUEUE_ARN: 'acs:mns:cn-hangzhou:1234567890123456:/queues/coupon-dead-letters',
  COUPON_VPC_ID: 'vpc-bp1',
  COUPON_VSWITCH_IDS: 'vsw-bp1',
  COUPON_SECURITY_GROUP_ID: 'sg-bp1',
  SELLER_ID: '3944837183',
};

const text = readFileSync(new URL('../../s.yaml', import.meta.url), 'utf8');
/** Every variable s.yaml reads from the deploying shell. */
const readsFromEnv = [...text.matchAll(/\$\{env\('([A-Z0-9_]+)'/g)].map((m) => m[1] as string);

/** Serverless Devs' `${env('NAME', 'default')}` and `${vars.name}`, applied to every string of the document. */
function render(value: unknown, env: Record<string, string>, vars: Record<string, unknown> = {}): unknown {
  if (typeof value === 'string') {
    return value
      .replace(
        /\$\{env\('([A-Z0-9_]+)'(?:,\s*'([^']*)')?\)\}/g,
        (_m, name: string, fallback?: string) => env[name] ?? fallback ?? '',
      )
      .replace(/\$\{vars\.([a-zA-Z]+)\}/g, (_m, name: string) => String(vars[name] ?? ''));
  }
  if (Array.isArray(value)) return value.map((v) => render(v, env, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, env, vars)]));
  }
  return value;
}

const raw = parse(text) as {
  edition: string;
  vars: Record<string, unknown>;
  resources: Record<string, { component: string; props: unknown }>;
};
const vars = render(raw.vars, DEPLOY_ENV) as Record<string, unknown>;
const resources = Object.fromEntries(
  Object.entries(raw.resources).map(([name, r]) => [
    name,
    { component: r.component, props: render(r.props, DEPLOY_ENV, vars) as Props },
  ]),
);

describe('s.yaml', () => {
  it('deploys each function of the manifest with the fc3 component, one role, nodejs20', () => {
    expect(raw.edition).toBe('3.0.0');
    expect(Object.keys(resources).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    const roles = new Set(Object.values(resources).map((r) => r.props.role));
    expect(roles).toEqual(new Set([DEPLOY_ENV['COUPON_FUNCTION_ROLE_ARN']]));
    for (const r of Object.values(resources))
      expect(r).toMatchObject({ component: 'fc3', props: { runtime: 'nodejs20' } });
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

  it('sets only variables the code reads, each valid as rendered', () => {
    const read = new Set<string>();
    loadConfig(new Proxy({}, { get: (_t, key) => (read.add(String(key)), undefined) }));
    for (const r of Object.values(resources)) {
      for (const name of Object.keys(r.props.environmentVariables)) expect(read).toContain(name);
      expect(() =>
        loadConfig({ ...r.props.environmentVariables, FC_FUNCTION_NAME: 'x', FC_REGION: 'cn-hangzhou' }),
      ).not.toThrow();
    }
  });

  it('reads only variables the README names', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of new Set(readsFromEnv)) expect(readme).toContain(`\`${name}\``);
  });

  it('has the HTTP (signature auth), EventBridge (retry + DLQ) and a disabled timer', () => {
    const triggerOf = (name: string) => resources[name]?.props.triggers[0];
    expect(triggerOf('coupon-http')).toMatchObject({ triggerType: 'http', triggerConfig: { authType: 'function' } });
    expect(triggerOf('coupon-event')).toMatchObject({
      triggerType: 'eventbridge',
      triggerConfig: {
        eventSourceConfig: { eventSourceParameters: {} },
        runOptions: {
          retryStrategy: expect.any(Object),
          deadLetterQueue: { Arn: DEPLOY_ENV['COUPON_DEAD_LETTER_QUEUE_ARN'] },
        },
      },
    });
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
    const timer = (
      render(raw.resources['coupon-timer']?.props, { ...DEPLOY_ENV, COUPON_TIMER_PAYLOAD: payload }, vars) as Props
    ).triggers[0]?.triggerConfig;
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
      expect(p['vpcConfig']).toEqual({ vpcId: 'vpc-bp1', vSwitchIds: ['vsw-bp1'], securityGroupId: 'sg-bp1' });
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
