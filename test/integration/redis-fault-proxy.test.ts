/**
 * The fault-injecting Redis proxy does what the money tests rely on: each fault lands on exactly the command it
 * names, and a lost reply is told apart from a lost command by what the real redis-server holds afterwards.
 * Commands go through the proxy on connections of their own, independent of the client under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { redisCommand, scriptCall, startRedisFaultProxy, type RedisFaultProxy } from '../helpers/redis-fault-proxy.js';

let redis: RedisServer;
let proxy: RedisFaultProxy;
beforeAll(async () => {
  redis = await startRedis();
  proxy = await startRedisFaultProxy(redis.port);
});
afterAll(async () => {
  await proxy.close();
  await redis.stop();
});

const viaProxy = (...args: string[]) => redisCommand(proxy.port, ...args);
const direct = (...args: string[]) => redisCommand(redis.port, ...args);
const isSetOf = (key: string) => (cmd: readonly string[]) => cmd[0] === 'SET' && cmd[1] === key;

describe('the Redis fault proxy', () => {
  it('passes commands and replies through untouched when no fault is due', async () => {
    expect(await viaProxy('SET', 'plain', 'v')).toBe('OK');
    expect(await viaProxy('GET', 'plain')).toBe('v');
    expect(proxy.commands.some((c) => c[0] === 'GET' && c[1] === 'plain')).toBe(true);
  });

  it('drop-reply: the command runs, its caller never hears', async () => {
    const fault = proxy.inject({ match: isSetOf('dropped-reply'), action: 'drop-reply' });
    await expect(viaProxy('SET', 'dropped-reply', '1')).rejects.toThrow(/no reply/);
    expect(fault.fired).toBe(1);
    expect(await direct('GET', 'dropped-reply')).toBe('1');
  });

  it('drop-command: the command never runs', async () => {
    proxy.inject({ match: isSetOf('dropped-command'), action: 'drop-command' });
    await expect(viaProxy('SET', 'dropped-command', '1')).rejects.toThrow(/no reply/);
    expect(await direct('GET', 'dropped-command')).toBeNull();
  });

  it('garble-reply: the command runs and its reply cannot be read', async () => {
    proxy.inject({ match: isSetOf('garbled'), action: 'garble-reply' });
    await expect(viaProxy('SET', 'garbled', '1')).rejects.toThrow(/cannot read RESP/);
    expect(await direct('GET', 'garbled')).toBe('1');
  });

  it('delay: the command runs late', async () => {
    proxy.inject({ match: isSetOf('slow'), action: 'delay', delayMs: 150 });
    const started = Date.now();
    expect(await viaProxy('SET', 'slow', 'late')).toBe('OK');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('acts on the nth matching command only, `times` in a row', async () => {
    proxy.inject({ match: (c) => c[0] === 'INCR' && c[1] === 'nth', action: 'drop-command', nth: 2, times: 2 });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await viaProxy('INCR', 'nth').catch(() => 'lost'));
    expect(results).toEqual([1, 'lost', 'lost', 2, 3]);
  });

  it('does not count an error reply (a NOSCRIPT before the EVAL) unless told to', async () => {
    const lua = "return redis.call('SET', KEYS[1], ARGV[1])";
    const sha = createHash('sha1').update(lua).digest('hex');
    const fault = proxy.inject({ match: (c) => scriptCall(c)?.keys[0] === 'scripted', action: 'drop-reply' });
    expect(await viaProxy('EVALSHA', sha, '1', 'scripted', 'x')).toMatchObject({
      error: expect.stringMatching(/^NOSCRIPT/),
    });
    expect(fault.fired).toBe(0);
    await expect(viaProxy('EVAL', lua, '1', 'scripted', 'x')).rejects.toThrow(/no reply/);
    expect(fault.fired).toBe(1);
    expect(await direct('GET', 'scripted')).toBe('x');
  });
});
