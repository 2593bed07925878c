import { createHash } from 'node:crypto';
import net from 'node:net';
import { encodeCommand, ProtocolError, ReplyError, ReplyParser, type Reply } from './resp.js';
import { parseRedisUrl, type RedisEndpoint } from './url.js';

/**
 * A small Redis client for the few commands the stores run (EVALSHA with an EVAL fallback, HGETALL, GET, SCAN):
 * one connection, commands pipelined in order, AUTH and SELECT from the URL, TLS for rediss://, a timeout per
 * command.
 *
 * It is written for Function Compute, where an instance is frozen between invocations: its timers stop, and the
 * server (`timeout`) or a NAT may close the connection meanwhile, which the instance learns only once it runs
 * again, often after it has written the next command. So:
 *
 * - A connection idle longer than `maxIdleMs` (default 30 s, below common server and NAT idle limits) is replaced
 *   before it is used. Idle age is measured when a command is sent, not by a timer, which would not run while
 *   frozen.
 * - A command that is **retry-safe** and whose connection drops before its reply is sent once more on a new
 *   connection. Reads (GET, HGETALL, SCAN, PING, …: `READ_ONLY_COMMANDS`) are retry-safe by themselves; anything
 *   else is retry-safe only when its caller says so: `call('SET', k, v, { retrySafe: true })` or
 *   `script(lua, { retrySafe: true })`. Mark only what may run twice with the same effect as once: a read, a
 *   write fenced by its owner that a repetition leaves unchanged, or a budget reservation carrying its own
 *   reservation id. A budget RESERVE/RELEASE without one must never be marked.
 * - A command that is not retry-safe is never sent twice. When its connection has been quiet longer than
 *   `verifyAfterIdleMs` (default 1 s), a PING (itself retry-safe) goes first, so a connection that died while the
 *   instance was frozen is found and replaced before the command is written; a drop after that is reported, as
 *   a RedisConnectionError, for the caller to judge (the stores fail closed).
 * - A command that times out is not retried (the server may be slow, not gone); the connection is dropped.
 * - Answers that mean the URL names the wrong thing get errors that say so: a cluster node's MOVED/ASK (use the
 *   cluster's proxy endpoint), READONLY from a replica after a failover (the connection is replaced, so the next
 *   command reaches the new primary behind the same name), a database index the server does not have, and a
 *   server without Lua.
 *
 * Why our own and not a library's: ioredis and node-redis decide re-sending for the whole connection (ioredis's
 * `autoResendUnfulfilledCommands`, on by default, writes every command still unanswered again after a
 * reconnect), which for a budget reservation would count its amount twice; here it is decided per command.
 */
export interface RedisClient {
  /** One command; a trailing `{ retrySafe: true }` lets it be sent again after a dropped connection. */
  call(...args: CallArgs): Promise<Reply>;
  /** A Lua script run by its SHA-1 (EVALSHA), loaded with EVAL the first time the server does not know it. */
  script(lua: string, options?: CallOptions): ScriptRunner;
  disconnect(): void;
}

export type ScriptRunner = (keys: readonly string[], args: readonly string[]) => Promise<Reply>;

export interface CallOptions {
  /** Repeating the command has the same effect as running it once: it may be re-sent after a dropped connection. */
  retrySafe?: boolean;
}

export type CallArgs = string[] | [...string[], CallOptions];

export interface RedisOptions {
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** A connection quiet for longer is closed and replaced before its next command (default 30 000). */
  maxIdleMs?: number;
  /** A command that is not retry-safe, on a connection quiet for longer, is preceded by a PING (default 1 000). */
  verifyAfterIdleMs?: number;
}

/** The connection failed or was lost. `dropped`: it closed after the command was written and before its reply. */
export class RedisConnectionError extends Error {
  readonly dropped: boolean;
  constructor(message: string, options: { dropped?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RedisConnectionError';
    this.dropped = options.dropped ?? false;
  }
}

/** Commands that change nothing: sending one twice is as good as once. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  'PING',
  'ECHO',
  'GET',
  'MGET',
  'STRLEN',
  'EXISTS',
  'TYPE',
  'TTL',
  'PTTL',
  'HGET',
  'HMGET',
  'HGETALL',
  'HEXISTS',
  'HLEN',
  'HKEYS',
  'HVALS',
  'SCAN',
  'HSCAN',
  'SMEMBERS',
  'SISMEMBER',
  'SCARD',
  'ZSCORE',
  'ZCARD',
  'ZRANGE',
  'LRANGE',
  'LLEN',
  'DBSIZE',
  'INFO',
  'TIME',
]);

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Explains the answers that mean the URL points at the wrong kind of server, or the wrong role of one. */
export function explainReplyError(err: ReplyError, args: readonly string[], db: number): ReplyError {
  const message = err.message;
  const code = message.split(' ', 1)[0] ?? '';
  if (code === 'MOVED' || code === 'ASK')
    return new ReplyError(
      `the server answered ${code}: it is a cluster node, and this client does not follow cluster redirections; use the cluster's proxy endpoint`,
    );
  if (code === 'READONLY')
    return new ReplyError(
      'the server answered READONLY: it is a read-only replica (a failover?); the URL must name the primary endpoint, reconnected on the next command',
    );
  if (code === 'CROSSSLOT')
    return new ReplyError('the server answered CROSSSLOT: it is a cluster node; use the cluster proxy endpoint');
  const command = (args[0] ?? '').toUpperCase();
  if (command === 'SELECT' && /out of range|invalid db/i.test(message))
    return new ReplyError(`the Redis URL names database ${db}, which this server does not have (${message})`);
  if (command === 'SELECT' && /cluster/i.test(message))
    return new ReplyError(`the Redis URL names database ${db}, but the server is a cluster, which has database 0 only`);
  if ((command === 'EVALSHA' || command === 'EVAL') && /unknown command|not support/i.test(message))
    return new ReplyError(
      `the server runs no Lua scripts (${message.slice(0, 60)}); the stores need a Redis with EVAL (Tair ESSD/SSD has none)`,
    );
  return err;
}

const now = () => performance.now();

/** One socket: commands written in order, replies matched to them in order. */
class Connection {
  dead = false;
  /** A PING in flight to prove the connection is alive; other unsafe commands wait for it. */
  verifying: Promise<void> | undefined;
  readonly ready: Promise<void>;
  private socket: net.Socket | undefined;
  private parser = new ReplyParser();
  private pending: Pending[] = [];
  private lastActive = now();
  private lastErrorCode = '';

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly options: Required<RedisOptions>,
  ) {
    this.ready = this.open();
    this.ready.catch(() => undefined);
  }

  /** How long nothing was sent or received; a command in flight keeps the connection busy, not idle. */
  idleMs(): number {
    return this.pending.length > 0 ? 0 : now() - this.lastActive;
  }

  send(args: readonly string[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const s = this.socket;
      if (this.dead || !s) {
        reject(new RedisConnectionError('connection lost before the command was sent'));
        return;
      }
      // A reply that does not come in time leaves the connection out of step: it is dropped for a fresh one.
      const timer = setTimeout(
        () => this.fail(new RedisConnectionError(`command timed out after ${this.options.commandTimeoutMs} ms`)),
        this.options.commandTimeoutMs,
      );
      this.pending.push({ resolve, reject, timer });
      this.lastActive = now();
      s.write(encodeCommand(args));
    });
  }

  close(reason: string): void {
    this.fail(new RedisConnectionError(reason));
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    const failed = this.pending;
    this.pending = [];
    this.socket?.destroy();
    for (const p of failed) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  private onData(chunk: Buffer): void {
    let replies: Reply[];
    try {
      replies = this.parser.feed(chunk);
    } catch (err) {
      this.fail(new RedisConnectionError(err instanceof ProtocolError ? err.message : 'unreadable reply'));
      return;
    }
    this.lastActive = now();
    for (const reply of replies) {
      const p = this.pending.shift();
      if (!p) continue;
      clearTimeout(p.timer);
      if (reply instanceof ReplyError) p.reject(reply);
      else p.resolve(reply);
    }
  }

  private async open(): Promise<void> {
    const { host, port, secure } = this.endpoint;
    const s = secure
      ? (await import('node:tls')).connect({ host, port, servername: host })
      : net.connect({ host, port });
    this.socket = s;
    if (this.dead) s.destroy();
    s.setNoDelay(true);
    // Kernel keep-alive probes go on while the process is frozen and keep a NAT's mapping of an idle connection.
    s.setKeepAlive(true, 15_000);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err: NodeJS.ErrnoException) => {
      this.lastErrorCode = err.code ?? err.message.slice(0, 60);
      this.fail(
        new RedisConnectionError(`connection lost before the reply (${err.code ?? 'error'})`, {
          dropped: true,
          cause: err,
        }),
      );
    });
    s.on('close', () => this.fail(new RedisConnectionError('connection closed before the reply', { dropped: true })));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RedisConnectionError(`no connection within ${this.options.connectTimeoutMs} ms`));
        this.close('connect timeout');
      }, this.options.connectTimeoutMs);
      s.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      s.once('close', () => {
        clearTimeout(timer);
        reject(new RedisConnectionError(`no connection (${this.lastErrorCode || 'closed while connecting'})`));
      });
    });
    const { username, password, db } = this.endpoint;
    const handshake = async (args: string[]) => {
      try {
        await this.send(args);
      } catch (err) {
        this.close('handshake refused');
        throw err instanceof ReplyError ? explainReplyError(err, args, db) : err;
      }
    };
    if (password !== undefined) await handshake(username ? ['AUTH', username, password] : ['AUTH', password]);
    if (db !== 0) await handshake(['SELECT', String(db)]);
  }
}

function unusable(err: Error): RedisClient {
  const fail = () => Promise.reject(err);
  return { call: fail, script: () => fail, disconnect: () => undefined };
}

function splitArgs(input: CallArgs): { args: string[]; options: CallOptions } {
  const last = input[input.length - 1];
  if (typeof last === 'object') return { args: input.slice(0, -1) as string[], options: last };
  return { args: input as string[], options: {} };
}

const isDrop = (err: unknown): boolean => err instanceof RedisConnectionError && err.dropped;

/** A client for the URL; a URL it cannot use fails every command with a RedisUrlError, as a server that is down. */
export function createRedisClient(url: string, options: RedisOptions = {}): RedisClient {
  let endpoint: RedisEndpoint;
  try {
    endpoint = parseRedisUrl(url);
  } catch (err) {
    return unusable(err instanceof Error ? err : new Error(String(err)));
  }
  const settings: Required<RedisOptions> = {
    commandTimeoutMs: options.commandTimeoutMs ?? 2000,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    maxIdleMs: options.maxIdleMs ?? 30_000,
    verifyAfterIdleMs: options.verifyAfterIdleMs ?? 1000,
  };
  let current: Connection | undefined;
  let closed = false;

  /** The connection to use now: a new one when there is none, it died, or it sat idle past the bound. */
  const connection = async (): Promise<Connection> => {
    if (closed) throw new RedisConnectionError('the client was closed');
    if (current && !current.dead && current.idleMs() > settings.maxIdleMs) current.close('idle too long');
    if (!current || current.dead) current = new Connection(endpoint, settings);
    const c = current;
    await c.ready;
    return c;
  };

  /** A connection just proven alive, for a command that must not be sent twice. */
  const verified = async (): Promise<Connection> => {
    for (let attempt = 0; ; attempt++) {
      const c = await connection();
      if (c.verifying) await c.verifying.catch(() => undefined);
      else if (c.idleMs() > settings.verifyAfterIdleMs) {
        const probe = c.send(['PING']).then(() => undefined);
        c.verifying = probe;
        try {
          await probe;
        } catch (err) {
          // A connection found dead is replaced once; any other failure is the command's.
          if (!isDrop(err) || attempt > 0) throw err;
        } finally {
          c.verifying = undefined;
        }
      }
      if (!c.dead || attempt > 0) return c;
    }
  };

  const run = async (args: readonly string[], retrySafe: boolean): Promise<Reply> => {
    let c = retrySafe ? await connection() : await verified();
    // Lost between being handed out and now: nothing was written on it yet, so any command may go on a new one.
    if (c.dead) c = await connection();
    try {
      return await c.send(args);
    } catch (err) {
      if (retrySafe && isDrop(err)) return (await connection()).send(args);
      if (err instanceof ReplyError && err.message.startsWith('READONLY')) c.close('the server is a replica');
      throw err;
    }
  };

  const call = async (args: readonly string[], callOptions: CallOptions): Promise<Reply> => {
    const retrySafe = callOptions.retrySafe ?? READ_ONLY_COMMANDS.has((args[0] ?? '').toUpperCase());
    try {
      return await run(args, retrySafe);
    } catch (err) {
      throw err instanceof ReplyError ? explainReplyError(err, args, endpoint.db) : err;
    }
  };

  // Connect now, off the first request's path; a failure here surfaces on the first command instead.
  connection().catch(() => undefined);

  return {
    call(...input) {
      const { args, options: callOptions } = splitArgs(input);
      return call(args, callOptions);
    },
    script(lua, scriptOptions = {}) {
      const sha = createHash('sha1').update(lua).digest('hex');
      return async (keys, args) => {
        try {
          return await call(['EVALSHA', sha, String(keys.length), ...keys, ...args], scriptOptions);
        } catch (err) {
          if (!(err instanceof ReplyError) || !err.message.startsWith('NOSCRIPT')) throw err;
          return call(['EVAL', lua, String(keys.length), ...keys, ...args], scriptOptions);
        }
      };
    },
    disconnect() {
      closed = true;
      current?.close('the client was closed');
    },
  };
}
