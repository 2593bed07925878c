import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import { maskUid } from '../../lib/redact.js';

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

describe('logger', () => {
  it('writes one JSON object per line with bound fields, and redacts secret-looking keys', () => {
    const lines: string[] = [];
    const log = createLogger('info', { requestId: 'fc-1' }, (l) => lines.push(l)).child({
      RequestId: 'op-1',
      trigger: 'http',
    });
    log.debug('hidden');
    log.info('hello', { accessKeySecret: 'x', securityToken: 'y', Authorization: 'z', attempt: 1 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'info',
      msg: 'hello',
      requestId: 'fc-1',
      RequestId: 'op-1',
      trigger: 'http',
      accessKeySecret: '[redacted]',
      securityToken: '[redacted]',
      Authorization: '[redacted]',
      attempt: 1,
      time: expect.any(String),
    });
  });

  it('masks uids as the documentation prints them', () => {
    expect(maskUid('1918000000883')).toBe('1918******883');
    expect(maskUid('12345')).toBe('*****');
  });
});
