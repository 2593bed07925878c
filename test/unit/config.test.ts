import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';

describe('configuration', () => {
  it('has working defaults locally', () => {
    expect(loadConfig({})).toMatchObject({
      store: { kind: 'memory' },
      idempotencyTtlSeconds: 604800,
      chunkSize: 50,
      dryRun: false,
      endpoint: new URL('https://resellertrade.aliyuncs.com'),
    });
  });

  it('names every bad variable', () => {
    try {
      loadConfig({
        MAX_RECIPIENTS: 'lots',
        IDEMPOTENCY_STORE: 'mysql://x',
        LOG_LEVEL: 'loud',
        SELLER_ID: '12ab',
        MAX_COUPON_AMOUNT: '-1',
        DRY_RUN: 'maybe',
      });
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      for (const name of [
        'MAX_RECIPIENTS',
        'IDEMPOTENCY_STORE',
        'LOG_LEVEL',
        'SELLER_ID',
        'MAX_COUPON_AMOUNT',
        'DRY_RUN',
      ])
        expect(text).toContain(name);
    }
  });

  it('refuses the in-memory store inside Function Compute', () => {
    expect(() => loadConfig({ FC_FUNCTION_NAME: 'coupon-http', FC_REGION: 'cn-hangzhou' })).toThrow(
      /IDEMPOTENCY_STORE must be redis/,
    );
    expect(
      loadConfig({ FC_FUNCTION_NAME: 'f', FC_REGION: 'r', IDEMPOTENCY_STORE: 'redis://u:p@h:6379' }).store,
    ).toEqual({ kind: 'redis', url: 'redis://u:p@h:6379' });
  });

  it('never echoes a Redis password in an error', () => {
    expect(() => loadConfig({ IDEMPOTENCY_STORE: 'memcached://user:hunter2@host' })).toThrow(/IDEMPOTENCY_STORE/);
    for (const bad of ['memcached://user:hunter2@host', 'redis:/:hunter2@host', 'hunter2']) {
      expect(() => loadConfig({ IDEMPOTENCY_STORE: bad })).not.toThrow(/hunter2/);
    }
  });
});
