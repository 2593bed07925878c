import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTIONS } from '../../functions/manifest.js';
import { LONGEST_FUNCTION_TIMEOUT_SECONDS, loadConfig } from '../../lib/config.js';
import { decodeSendRequest } from '../../lib/request/decode.js';
import { decodeTimer } from '../../lib/triggers/timer.js';

interface Props {
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  role: string;
  timeout: number;
  logConfig: Record<string, unknown>;
  environmentVariables: Record<string, string>;
  asyncInvokeConfig?: {
    maxAsyncRetryAttempts: number;
    maxAsyncEventAgeInSeconds: number;
    destinationConfig: { onFailure: { destination: string } };
  };
  triggers: Array<{ triggerType: string; triggerConfig: Record<string, unknown> }>;
}

const doc = parse(readFileSync(new URL('../../s.yaml', import.meta.url), 'utf8')) as {
  edition: string;
  resources: Record<string, { component: string; props: Props }>;
};

describe('s.yaml', () => {
  it('deploys each function from its dist/ bundle on nodejs20 with one role and logConfig', () => {
    expect(doc.edition).toBe('3.0.0');
    expect(Object.keys(doc.resources).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    const roles = new Set<string>();
    for (const [name, r] of Object.entries(doc.resources)) {
      expect(r.component).toBe('fc3');
      expect(r.props).toMatchObject({
        functionName: name,
        runtime: 'nodejs20',
        code: `./dist/${name}`,
        handler: 'index.handler',
      });
      expect(r.props.logConfig).toMatchObject({ project: expect.any(String), logstore: expect.any(String) });
      expect(r.props.environmentVariables['IDEMPOTENCY_STORE']).toBeDefined();
      roles.add(r.props.role);
    }
    expect(roles.size).toBe(1);
  });

  it('has the HTTP (signature auth), EventBridge (retry + DLQ) and timer triggers', () => {
    const http = doc.resources['coupon-http']?.props.triggers[0];
    expect(http).toMatchObject({
      triggerType: 'http',
      triggerConfig: { authType: 'function', methods: ['GET', 'POST'] },
    });
    const eb = doc.resources['coupon-event']?.props.triggers[0];
    expect(eb).toMatchObject({
      triggerType: 'eventbridge',
      triggerConfig: {
        runOptions: { retryStrategy: expect.any(Object), deadLetterQueue: { Arn: expect.any(String) } },
      },
    });
    const timer = doc.resources['coupon-timer']?.props.triggers[0];
    expect(timer?.triggerType).toBe('timer');
  });

  it('timer payload is a valid send request', () => {
    const timer = doc.resources['coupon-timer']?.props.triggers[0]?.triggerConfig as { payload: string };
    const delivery = decodeTimer(
      Buffer.from(
        JSON.stringify({
          triggerTime: '2026-12-01T02:00:00Z',
          triggerName: 'nightly-campaign',
          payload: timer.payload,
        }),
      ),
    );
    if ('refused' in delivery) throw delivery.refused;
    const decoded = decodeSendRequest(delivery.value, { maxCouponAmount: 10000, maxRecipients: 10000 }, delivery.rule);
    expect(decoded.items.filter((i) => 'operation' in i)).toHaveLength(1);
  });

  it('retries async invocations for less time than the idempotency TTL, then tells an on-failure destination', () => {
    for (const name of ['coupon-event', 'coupon-timer']) {
      const p = doc.resources[name]?.props;
      expect(p?.asyncInvokeConfig?.maxAsyncRetryAttempts).toBeGreaterThan(0);
      expect(p?.asyncInvokeConfig?.maxAsyncEventAgeInSeconds).toBeLessThan(
        Number(p?.environmentVariables['IDEMPOTENCY_TTL_SECONDS']),
      );
      expect(p?.asyncInvokeConfig?.destinationConfig.onFailure.destination).toEqual(expect.any(String));
    }
  });

  it('keeps every function timeout within the one the configuration checks the idempotency TTL against', () => {
    for (const r of Object.values(doc.resources)) {
      expect(r.props.timeout).toBeLessThanOrEqual(LONGEST_FUNCTION_TIMEOUT_SECONDS);
      const ttl = r.props.environmentVariables['IDEMPOTENCY_TTL_SECONDS'];
      expect(() => loadConfig({ IDEMPOTENCY_TTL_SECONDS: ttl })).not.toThrow();
    }
    expect(() => loadConfig({ IDEMPOTENCY_TTL_SECONDS: String(LONGEST_FUNCTION_TIMEOUT_SECONDS - 1) })).toThrow(
      /IDEMPOTENCY_TTL_SECONDS/,
    );
  });
});
