import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';

const redis = { IDEMPOTENCY_STORE: 'redis://127.0.0.1:6379' };

describe('IDEMPOTENCY_REDIS_WAIT_REPLICAS and IDEMPOTENCY_REDIS_WAIT_TIMEOUT_MS', () => {
  it('default to no waiting', () => {
    expect(loadConfig(redis).redisWait).toEqual({ replicas: 0, timeoutMs: 500 });
  });

  it('are read as given', () => {
    const env = { ...redis, IDEMPOTENCY_REDIS_WAIT_REPLICAS: '2', IDEMPOTENCY_REDIS_WAIT_TIMEOUT_MS: '250' };
    expect(loadConfig(env).redisWait).toEqual({ replicas: 2, timeoutMs: 250 });
  });

  it.each([
    [
      { ...redis, IDEMPOTENCY_REDIS_WAIT_REPLICAS: '-1' },
      /IDEMPOTENCY_REDIS_WAIT_REPLICAS must be a whole number from 0 to 16/,
    ],
    [{ ...redis, IDEMPOTENCY_REDIS_WAIT_REPLICAS: '17' }, /IDEMPOTENCY_REDIS_WAIT_REPLICAS must be a whole number/],
    [{ ...redis, IDEMPOTENCY_REDIS_WAIT_REPLICAS: 'one' }, /IDEMPOTENCY_REDIS_WAIT_REPLICAS must be a whole number/],
    // WAIT 0 ms would block for ever.
    [
      { ...redis, IDEMPOTENCY_REDIS_WAIT_TIMEOUT_MS: '0' },
      /IDEMPOTENCY_REDIS_WAIT_TIMEOUT_MS must be a whole number from 1 to 10000/,
    ],
    [
      { ...redis, IDEMPOTENCY_REDIS_WAIT_TIMEOUT_MS: '10001' },
      /IDEMPOTENCY_REDIS_WAIT_TIMEOUT_MS must be a whole number/,
    ],
    [{ IDEMPOTENCY_REDIS_WAIT_REPLICAS: '1' }, /IDEMPOTENCY_REDIS_WAIT_REPLICAS needs IDEMPOTENCY_STORE to be a redis/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
