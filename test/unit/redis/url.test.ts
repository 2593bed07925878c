import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../../lib/runtime.js';
import { parseRedisUrl, RedisUrlError } from '../../../lib/redis/url.js';

describe('the Redis URL', () => {
  it.each([
    ['redis://127.0.0.1:6380', { host: '127.0.0.1', port: 6380, secure: false, db: 0 }],
    ['redis://h/', { host: 'h', port: 6379, db: 0 }],
    [
      'rediss://user:p%40ss@r-bp1.redis.rds.aliyuncs.com:6379/7',
      { secure: true, username: 'user', password: 'p@ss', db: 7 },
    ],
    ['redis://:only-password@[::1]:6379/0', { host: '::1', password: 'only-password', db: 0 }],
  ])('reads %s', (url, expected) => {
    expect(parseRedisUrl(url)).toMatchObject(expected);
  });

  it.each([
    ['redis://h:6379/coupons', /database in the Redis URL \(its path\) must be a whole number/],
    ['redis://h:6379/-1', /must be a whole number/],
    ['redis://h:6379/1/2', /must be a whole number/],
    ['redis://:secret@h:6379/x', /must be a whole number/],
    ['http://h:6379/0', /must start with redis:\/\/ or rediss:\/\//],
    ['redis://', /names no host|not a URL/],
  ])('refuses %s, without repeating the URL', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(url)).toThrow(message);
    expect(() => parseRedisUrl(url)).not.toThrow(/secret/);
  });

  it('is checked at cold start: a bad database path is an InvalidConfiguration naming IDEMPOTENCY_STORE', async () => {
    const runtime = createRuntime({ IDEMPOTENCY_STORE: 'redis://:secret@127.0.0.1:1/coupons', LOG_LEVEL: 'error' });
    await expect(runtime.get()).rejects.toMatchObject({
      code: 'InvalidConfiguration',
      message: expect.stringMatching(/^IDEMPOTENCY_STORE: the database in the Redis URL/),
    });
    await expect(runtime.get()).rejects.not.toMatchObject({ message: expect.stringContaining('secret') });
  });
});
