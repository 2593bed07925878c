import { createHash } from 'node:crypto';
import net from 'node:net';
import { encodeCommand, ReplyError, ReplyParser, type Reply } from './resp.js';

/**
 * A small Redis client for the few commands the stores run (EVALSHA with an EVAL fallback, HGETALL, GET, SCAN):
 * one connection, commands pipelined in order, AUTH and SELECT from the URL, TLS for rediss://, a timeout per
 * command, and a fresh connection after any failure. Nothing is retried here: a command that fails is the
 * caller's to judge (the stores fail closed), and a script that may have run is never sent twice.
 */
export interface RedisClient {
  call(...args: string[]): Promise<Reply>;
  /** A Lua script run by its SHA-1 (EVALSHA), loaded with EVAL the first time the server does not know it. */
  script(lua: string): (keys: readonly string[], args: readonly string[]) => Promise<Reply>;
  disconnect(): void;
}

export interface RedisOptions {
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export class RedisConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisConnectionError';
  }
}

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Endpoint {
  host: string;
  port: number;
  secure: boolean;
  username?: string;
  password?: string;
  db: number;
}

function endpointOf(url: string): Endpoint {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    secure: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
  };
}

export function createRedisClient(url: string, options: RedisOptions = {}): RedisClient {
  const endpoint = endpointOf(url);
  const commandTimeoutMs = options.commandTimeoutMs ?? 2000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  let socket: net.Socket | undefined;
  let ready: Promise<void> | undefined;
  let pending: Pending[] = [];
  let parser = new ReplyParser();
  let closed = false;

  const fail = (err: Error) => {
    const failed = pending;
    pending = [];
    ready = undefined;
    parser = new ReplyParser();
    socket?.destroy();
    socket = undefined;
    for (const p of failed) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  };

  const send = (args: readonly string[]): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const s = socket;
      if (!s) {
        reject(new RedisConnectionError('not connected'));
        return;
      }
      // A reply that does not come in time leaves the connection out of step: it is dropped for a fresh one.
      const timer = setTimeout(
        () => fail(new RedisConnectionError(`command timed out after ${commandTimeoutMs} ms`)),
        commandTimeoutMs,
      );
      pending.push({ resolve, reject, timer });
      s.write(encodeCommand(args));
    });

  const onData = (chunk: Buffer) => {
    let replies: Reply[];
    try {
      replies = parser.feed(chunk);
    } catch (err) {
      fail(new RedisConnectionError(err instanceof Error ? err.message : 'unreadable reply'));
      return;
    }
    for (const reply of replies) {
      const p = pending.shift();
      if (!p) continue;
      clearTimeout(p.timer);
      if (reply instanceof ReplyError) p.reject(reply);
      else p.resolve(reply);
    }
  };

  const open = async (): Promise<net.Socket> => {
    if (endpoint.secure) {
      const tls = await import('node:tls');
      return tls.connect({ host: endpoint.host, port: endpoint.port, servername: endpoint.host });
    }
    return net.connect({ host: endpoint.host, port: endpoint.port });
  };

  const connection = (): Promise<void> => {
    if (closed) return Promise.reject(new RedisConnectionError('the client was closed'));
    ready ??= (async () => {
      const s = await open();
      socket = s;
      s.setNoDelay(true);
      s.setKeepAlive(true);
      s.on('data', onData);
      s.on('error', (err) =>
        fail(new RedisConnectionError(`connection failed (${(err as NodeJS.ErrnoException).code ?? 'error'})`)),
      );
      s.on('close', () => {
        if (socket === s) fail(new RedisConnectionError('connection closed'));
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new RedisConnectionError(`no connection within ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
        s.once(endpoint.secure ? 'secureConnect' : 'connect', () => {
          clearTimeout(timer);
          resolve();
        });
        s.once('error', () => {
          clearTimeout(timer);
          reject(new RedisConnectionError('connection refused or lost'));
        });
      });
      if (endpoint.password !== undefined) {
        await send(endpoint.username ? ['AUTH', endpoint.username, endpoint.password] : ['AUTH', endpoint.password]);
      }
      if (endpoint.db !== 0) await send(['SELECT', String(endpoint.db)]);
    })().catch((err: unknown) => {
      fail(err instanceof Error ? err : new RedisConnectionError(String(err)));
      throw err;
    });
    return ready;
  };

  const call = async (...args: string[]): Promise<Reply> => {
    await connection();
    return send(args);
  };

  // Connect now, off the first request's path; a failure here surfaces on the first command instead.
  connection().catch(() => undefined);

  return {
    call,
    script(lua) {
      const sha = createHash('sha1').update(lua).digest('hex');
      return async (keys, args) => {
        try {
          return await call('EVALSHA', sha, String(keys.length), ...keys, ...args);
        } catch (err) {
          if (!(err instanceof ReplyError) || !err.message.startsWith('NOSCRIPT')) throw err;
          return call('EVAL', lua, String(keys.length), ...keys, ...args);
        }
      };
    },
    disconnect() {
      closed = true;
      fail(new RedisConnectionError('the client was closed'));
    },
  };
}
