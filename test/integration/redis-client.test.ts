/**
 * The small Redis client against a real redis-server: ACL users, timeouts, restarts, frozen instances (a server
 * `timeout`, connections killed while the process cannot see it), what is and is not sent again, the answers
 * that mean the URL is wrong, and a soak with connections killed at random while operations run (nothing sent
 * twice, nothing lost).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../lib/idempotency/redis.js';
import { createRedisClient, RedisConnectionError, type RedisClient } from '../../lib/redis/client.js';
import { guarded } from '../../lib/redis/connect.js';
import { ReplyParser } from '../../lib/redis/resp.js';
import { RedisUrlError } from '../../lib/redis/url.js';
import type { UpstreamCall } from '../../lib/resellertrade/client.js';
import { executeOperation } from '../../lib/send/execute.js';
import { operation, recipient } from '../fixtures/operations.js';
import { executorContext, uidOf } from '../helpers/executor.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis({ password: 'admin-pw' });
});
afterAll(async () => {
  await redis.stop();
});

const admin = () => createRedisClient(redis.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Redis client', () => {
  it('authenticates as an ACL user and runs the stores through it', async () => {
    const a = admin();
    await a.call('ACL', 'SETUSER', 'coupon', 'on', '>coupon-pw', '~coupon:*', '+@all');
    a.disconnect();
    const store = await createRedisStore(`redis://coupon:coupon-pw@127.0.0.1:${redis.port}`);
    const op = operation({ requestId: 'acl-op', recipients: [recipient('10', 1)] });
    const out = await executeOperation(
      op,
      executorContext(store, [{ outcome: { kind: 'ok', httpStatus: 200, items: [{ uid: '10' }] }, latencyMs: 1 }]),
    );
    expect(out.results[0]?.status).toBe('SENT');
    await store.close();
    const wrong = await createRedisStore(`redis://coupon:wrong@127.0.0.1:${redis.port}`);
    await expect(wrong.get('x')).rejects.toMatchObject({ name: 'StoreError' });
    await wrong.close();
  });

  it('gives up on a command that does not answer in time, and works again afterwards', async () => {
    const a = admin();
    const client = createRedisClient(redis.url, { commandTimeoutMs: 200 });
    await client.call('PING');
    await a.call('CLIENT', 'PAUSE', '600', 'ALL');
    const started = Date.now();
    await expect(client.call('GET', 'coupon:x')).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(500);
    await sleep(700);
    expect(await client.call('PING')).toBe('PONG');
    client.disconnect();
    a.disconnect();
  });

  it('fails closed while the server is down and reconnects when it is back', async () => {
    const own = await startRedis();
    const client = createRedisClient(own.url, { connectTimeoutMs: 300 });
    expect(await client.call('PING')).toBe('PONG');
    await own.stop();
    await expect(client.call('PING')).rejects.toThrow();
    await own.start();
    let answer: unknown;
    for (let i = 0; i < 20 && answer !== 'PONG'; i++) answer = await client.call('PING').catch(() => sleep(100));
    expect(answer).toBe('PONG');
    client.disconnect();
    await own.stop();
  });
});

describe('soak: operations while connections are killed at random', () => {
  const operations = Number(process.env['SOAK_OPERATIONS'] ?? 200);

  it(`sends each recipient of ${operations} operations at most once, and accounts for every one`, async () => {
    const store = await createRedisStore(redis.url, { prefix: `soak${process.pid}:` });
    const killer = admin();
    let killing = true;
    let killed = 0;
    const kills = (async () => {
      while (killing) {
        const n = await killer.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes').catch(() => 0);
        killed += typeof n === 'number' ? n : 0;
        await sleep(Math.random() * 10);
      }
    })();
    let attempts = 0;
    const sent = new Map<string, number>();
    const upstream = async (form: string): Promise<UpstreamCall> => {
      const id = `${new URLSearchParams(form).get('RequestId')}/${uidOf(form)}`;
      sent.set(id, (sent.get(id) ?? 0) + 1);
      return { outcome: { kind: 'ok', httpStatus: 200, items: [{ uid: uidOf(form) ?? '' }] }, latencyMs: 1 };
    };
    let clock = Date.now();
    const finals: Array<{ requestId: string; statuses: string[] }> = [];
    for (let i = 0; i < operations; i++) {
      const op = operation({
        requestId: `soak-${i}`,
        recipients: [recipient('10', 1), recipient('11', 2), recipient('12', 3)],
      });
      for (let attempt = 0; attempt < 100; attempt++) {
        attempts += 1;
        // Every redelivery comes after the last one's lease, as the platform's retries do.
        clock += 60_000;
        const ctx = executorContext(
          store,
          Array.from({ length: 3 }, () => upstream),
          { now: () => clock, deadline: clock + 600_000 },
        );
        const out = await executeOperation(op, ctx).catch(() => undefined);
        if (out && !out.results.some((r) => r.status === 'FAILED' && r.retryable)) {
          finals.push({ requestId: op.requestId, statuses: out.results.map((r) => r.status) });
          break;
        }
      }
    }
    killing = false;
    await kills;
    killer.disconnect();
    await store.close();
    expect(finals).toHaveLength(operations);
    // The kills did land mid-operation: connections were cut and deliveries had to be made again.
    expect(killed).toBeGreaterThan(operations / 20);
    expect(attempts).toBeGreaterThan(operations);
    expect([...sent.values()].every((n) => n === 1)).toBe(true);
    for (const f of finals) {
      f.statuses.forEach((status, i) => {
        const count = sent.get(`${f.requestId}-${i + 1}/${10 + i}`) ?? 0;
        if (status === 'SENT') expect(count).toBe(1);
        else expect(status).toBe('UNKNOWN');
      });
    }
  });
});

describe('round trips', () => {
  it('a single-chunk operation costs 3 on Redis: claim, SENDING, then the outcome and completion in one step', async () => {
    const { redisIdempotencyStore } = await import('../../lib/idempotency/redis.js');
    const { createRedisClient: connect } = await import('../../lib/redis/client.js');
    const client = connect(redis.url);
    let calls = 0;
    const counting = {
      ...client,
      call: (...args: string[]) => {
        calls += 1;
        return client.call(...args);
      },
      script: (lua: string) => {
        const run = client.script(lua);
        return (keys: readonly string[], args: readonly string[]) => {
          calls += 1;
          return run(keys, args);
        };
      },
    };
    const store = redisIdempotencyStore(counting, `rt${process.pid}:`);
    const op = operation({ requestId: 'round-trips', recipients: [recipient('10', 1)] });
    const ok: UpstreamCall = { outcome: { kind: 'ok', httpStatus: 200, items: [{ uid: '10' }] }, latencyMs: 1 };
    const out = await executeOperation(op, executorContext(store, [ok]));
    expect(out.results[0]?.status).toBe('SENT');
    expect(calls).toBe(3);
    expect((await store.get((await import('../../lib/idempotency/keys.js')).operationKey(op)))?.status).toBe(
      'COMPLETED',
    );
    const replay = await executeOperation(op, executorContext(store, []));
    expect(replay.replayed).toBe(true);
    await store.close();
  });
});

/**
 * Stops this process for `ms` as FC freezes an instance between invocations: no timer runs and no socket is read,
 * so a connection the server closes meanwhile is found closed only after the next command has been written.
 */
const freeze = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Kills one client connection from outside while this process is blocked (as if frozen): it cannot notice. */
function killWhileFrozen(server: RedisServer, clientId: string): void {
  execFileSync('redis-cli', ['-p', String(server.port), 'CLIENT', 'KILL', 'ID', clientId]);
}

/** How many times the server ran each command since the last CONFIG RESETSTAT, and connections it accepted. */
async function stats(admin: RedisClient): Promise<{ calls: (cmd: string) => number; connections: number }> {
  const commands = String(await admin.call('INFO', 'commandstats'));
  const server = String(await admin.call('INFO', 'stats'));
  return {
    calls: (cmd) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(commands)?.[1] ?? 0),
    connections: Number(/total_connections_received:(\d+)/.exec(server)?.[1] ?? 0),
  };
}

const SET_ONCE = "redis.call('SET', KEYS[1], ARGV[1]) return 1";
const INCR_SCRIPT = "return redis.call('INCR', KEYS[1])";

describe('the Redis client on a frozen instance', () => {
  let own: RedisServer;
  let admin: RedisClient;
  beforeAll(async () => {
    own = await startRedis();
    admin = createRedisClient(own.url);
  });
  afterAll(async () => {
    admin.disconnect();
    await own.stop();
  });

  it('answers every call when the server closes idle connections after 1 s and calls come 2 s apart, frozen between', async () => {
    const strict = await startRedis({ args: ['--timeout', '1'] });
    const client = createRedisClient(strict.url);
    // Connected only to count, after the rounds: its own connection is the last one the server accepts.
    let strictAdmin: RedisClient | undefined;
    const incr = client.script(INCR_SCRIPT);
    try {
      expect(await client.call('SET', 'frozen:seen', '0')).toBe('OK');
      const rounds: Array<() => Promise<unknown>> = [
        // First after the freeze: a command that must not run twice (the PING before it finds the dead connection).
        () => client.call('INCR', 'frozen:n'),
        // A read (sent, lost with the connection, sent again once).
        () => client.call('GET', 'frozen:seen'),
        // A script nobody marked retry-safe.
        () => incr(['frozen:n'], []),
        // Several at once, as an invocation's parallel store calls.
        () =>
          Promise.all([client.call('INCR', 'frozen:n'), client.call('HGETALL', 'frozen:none'), incr(['frozen:n'], [])]),
      ];
      for (const round of rounds) {
        freeze(2000);
        await expect(round()).resolves.toBeDefined();
      }
      strictAdmin = createRedisClient(strict.url);
      const after = await stats(strictAdmin);
      // Each increment ran exactly once: 1 + 1 + 2.
      expect(await client.call('GET', 'frozen:n')).toBe('4');
      // INCR counts the scripts' own INCR too: two sent directly, two from the scripts.
      expect(after.calls('incr')).toBe(4);
      // The server did close the idle connections: besides its first and the counting one, the client opened more.
      expect(after.connections).toBeGreaterThanOrEqual(3);
    } finally {
      client.disconnect();
      strictAdmin?.disconnect();
      await strict.stop();
    }
  }, 30_000);

  it('sends a read again, once, on a new connection when its connection was killed unseen', async () => {
    const client = createRedisClient(own.url);
    try {
      await client.call('SET', 'killed:key', 'value');
      const id = String(await client.call('CLIENT', 'ID'));
      killWhileFrozen(own, id);
      await admin.call('CONFIG', 'RESETSTAT');
      expect(await client.call('GET', 'killed:key')).toBe('value');
      const after = await stats(admin);
      expect(after.calls('get')).toBe(1);
      expect(after.connections).toBe(1);
      expect(String(await client.call('CLIENT', 'ID'))).not.toBe(id);
    } finally {
      client.disconnect();
    }
  });

  it('never sends a command that is not retry-safe twice: a dropped one is a StoreError, and it did not run', async () => {
    // No quiet spell before it, so no PING goes first: the command itself meets the dead connection.
    const client = createRedisClient(own.url, { verifyAfterIdleMs: 60_000 });
    try {
      const id = String(await client.call('CLIENT', 'ID'));
      await admin.call('CONFIG', 'RESETSTAT');
      killWhileFrozen(own, id);
      const failed = guarded('write', () => client.call('INCR', 'unsafe:n'));
      await expect(failed).rejects.toMatchObject({ name: 'StoreError', message: expect.stringContaining('closed') });
      await expect(failed).rejects.toMatchObject({ cause: expect.any(RedisConnectionError) });
      const unmarked = client.script(SET_ONCE);
      killWhileFrozen(own, String(await client.call('CLIENT', 'ID')));
      await expect(guarded('write', () => unmarked(['unsafe:script'], ['x']))).rejects.toMatchObject({
        name: 'StoreError',
      });
      const after = await stats(admin);
      expect(after.calls('incr')).toBe(0);
      expect(after.calls('evalsha') + after.calls('eval')).toBe(0);
      expect(await admin.call('GET', 'unsafe:n')).toBeNull();
      expect(await admin.call('GET', 'unsafe:script')).toBeNull();
      // The client itself is fine: the next command goes on a new connection.
      expect(await client.call('INCR', 'unsafe:n')).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it('proves a quiet connection alive with a PING before a command that is not retry-safe, which then runs once', async () => {
    const client = createRedisClient(own.url, { verifyAfterIdleMs: 200 });
    try {
      await client.call('PING');
      await admin.call('CONFIG', 'RESETSTAT');
      freeze(300);
      expect(await client.call('INCR', 'verified:n')).toBe(1);
      expect((await stats(admin)).calls('ping')).toBe(1);
      // Right after, no PING: the connection was just used.
      expect(await client.call('INCR', 'verified:n')).toBe(2);
      expect((await stats(admin)).calls('ping')).toBe(1);
      // Killed while quiet: the PING meets the dead connection (and is lost with it), the command goes on a new one.
      const id = String(await client.call('CLIENT', 'ID'));
      freeze(300);
      killWhileFrozen(own, id);
      expect(await client.call('INCR', 'verified:n')).toBe(3);
      expect((await stats(admin)).calls('incr')).toBe(3);
    } finally {
      client.disconnect();
    }
  });

  it('sends a script marked retry-safe again after a drop, and it runs once', async () => {
    const client = createRedisClient(own.url);
    const marked = client.script(SET_ONCE, { retrySafe: true });
    try {
      expect(await marked(['marked:k'], ['1'])).toBe(1);
      await admin.call('CONFIG', 'RESETSTAT');
      killWhileFrozen(own, String(await client.call('CLIENT', 'ID')));
      expect(await marked(['marked:k'], ['2'])).toBe(1);
      expect((await stats(admin)).calls('evalsha')).toBe(1);
      expect(await admin.call('GET', 'marked:k')).toBe('2');
      killWhileFrozen(own, String(await client.call('CLIENT', 'ID')));
      expect(await client.call('SET', 'marked:set', 'v', { retrySafe: true })).toBe('OK');
    } finally {
      client.disconnect();
    }
  });

  it('replaces a connection idle past maxIdleMs before using it, and keeps a busy one', async () => {
    const client = createRedisClient(own.url, { maxIdleMs: 300 });
    try {
      const first = String(await client.call('CLIENT', 'ID'));
      expect(String(await client.call('CLIENT', 'ID'))).toBe(first);
      freeze(400);
      const second = String(await client.call('CLIENT', 'ID'));
      expect(second).not.toBe(first);
      // The old connection is closed, not left open beside the new one.
      expect(String(await admin.call('CLIENT', 'LIST', 'ID', first))).toBe('');
    } finally {
      client.disconnect();
    }
  });
});

describe('a connection that drops before every reply', () => {
  /** A server that reads one command per connection and closes it without answering. */
  it('gets a read sent twice in all (once more, not forever), and a write once', async () => {
    const received: string[] = [];
    const server = createServer((socket: Socket) => {
      const parser = new ReplyParser();
      socket.on('data', (chunk) => {
        // Commands are arrays of bulk strings, which the reply parser reads as well.
        for (const command of parser.feed(chunk)) received.push(String((command as string[])[0]));
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client = createRedisClient(`redis://127.0.0.1:${port}`);
    try {
      await expect(client.call('GET', 'k')).rejects.toMatchObject({ name: 'RedisConnectionError', dropped: true });
      expect(received).toEqual(['GET', 'GET']);
      received.length = 0;
      await expect(client.call('INCRBY', 'k', '5')).rejects.toMatchObject({ dropped: true });
      expect(received).toEqual(['INCRBY']);
    } finally {
      client.disconnect();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('answers that mean the URL names the wrong server', () => {
  it('names a database index the server does not have, and refuses a path that is no index', async () => {
    const client = createRedisClient(`${redis.url}/99`);
    await expect(client.call('GET', 'k')).rejects.toThrow(/names database 99, which this server does not have/);
    client.disconnect();
    const unusable = createRedisClient(`${redis.url}/coupons`);
    await expect(unusable.call('PING')).rejects.toThrow(RedisUrlError);
    await expect(guarded('read', () => unusable.call('GET', 'k'))).rejects.toMatchObject({
      name: 'StoreError',
      message: expect.stringMatching(/must be a whole number/),
    });
    const ok = createRedisClient(`${redis.url}/3`);
    expect(await ok.call('PING')).toBe('PONG');
    ok.disconnect();
  });

  it('says READONLY means a replica after a failover, and reconnects for the next command', async () => {
    const primary = await startRedis();
    const other = await startRedis();
    const client = createRedisClient(other.url);
    const control = createRedisClient(other.url);
    try {
      expect(await client.call('SET', 'k', '1')).toBe('OK');
      const id = String(await client.call('CLIENT', 'ID'));
      // A failover turns the server behind this URL into a replica.
      await control.call('REPLICAOF', '127.0.0.1', String(primary.port));
      await expect(guarded('write', () => client.call('SET', 'k', '2'))).rejects.toThrow(
        /READONLY: it is a read-only replica/,
      );
      await control.call('REPLICAOF', 'NO', 'ONE');
      expect(await client.call('SET', 'k', '3')).toBe('OK');
      expect(String(await client.call('CLIENT', 'ID'))).not.toBe(id);
    } finally {
      client.disconnect();
      control.disconnect();
      await Promise.all([primary.stop(), other.stop()]);
    }
  });

  it('says a cluster node must be reached through its proxy endpoint (MOVED, and SELECT of another database)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    const node = (name: string) =>
      startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `${name}.conf`)] });
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const toA = createRedisClient(a.url);
    const toB = createRedisClient(b.url);
    try {
      await toA.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      await toB.call('CLUSTER', 'MEET', '127.0.0.1', String(a.port));
      let moved: unknown;
      for (let i = 0; i < 50 && !moved; i++) {
        await sleep(100);
        moved = await toB.call('GET', 'coupon:k').then(
          () => undefined,
          (err: unknown) => (String(err).includes('MOVED') ? err : undefined),
        );
      }
      expect(String(moved)).toMatch(/answered MOVED: it is a cluster node.*proxy endpoint/);
      const selecting = createRedisClient(`${a.url}/2`);
      await expect(selecting.call('GET', 'k')).rejects.toThrow(/names database 2, but the server is a cluster/);
      selecting.disconnect();
    } finally {
      toA.disconnect();
      toB.disconnect();
      await Promise.all([a.stop(), b.stop()]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it('says a server without Lua (as Tair ESSD/SSD) cannot run the stores', async () => {
    const noLua = await startRedis({ args: ['--rename-command', 'EVALSHA', '', '--rename-command', 'EVAL', ''] });
    const client = createRedisClient(noLua.url);
    try {
      await expect(client.script(SET_ONCE)(['k'], ['v'])).rejects.toThrow(/runs no Lua scripts.*Tair ESSD\/SSD/);
    } finally {
      client.disconnect();
      await noLua.stop();
    }
  });
});
