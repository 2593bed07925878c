/**
 * A TCP proxy in front of a real redis-server that loses what a network or a failover can lose: for the Nth
 * command matching a predicate (and the `times - 1` matching after it) it drops the reply (the command ran), drops
 * the command (it never ran), garbles the reply, or delays the command. It reads RESP itself, independently of the
 * client under test, so that a fault lands on exactly one command however the client pipelines them.
 */
import net from 'node:net';

export type FaultAction = 'drop-reply' | 'drop-command' | 'garble-reply' | 'delay';

/** A decoded RESP value: enough to match commands and to tell an error reply. */
export type RespValue = string | number | null | RespValue[] | { error: string };

export interface FaultRule {
  /** Which commands the rule counts, e.g. `(cmd) => cmd[0] === 'EVALSHA' && cmd.some((a) => a.includes('SENDING'))`. */
  match: (command: readonly string[]) => boolean;
  action: FaultAction;
  /** The first matching command it acts on (1 = the first). */
  nth?: number;
  /** How many matching commands in a row it acts on, from the nth (Infinity: until cancelled). */
  times?: number;
  delayMs?: number;
  /**
   * Reply faults only: whether a command answered with an error (a NOSCRIPT before the client's EVAL, say) counts.
   * By default it does not: such a command changed nothing, so losing its reply would prove nothing.
   */
  countErrors?: boolean;
}

export interface InjectedFault {
  /** How many commands the fault has acted on so far. */
  readonly fired: number;
  /** Resolves when it has acted on its first command. */
  readonly firstFired: Promise<void>;
  cancel(): void;
}

export interface RedisFaultProxy {
  url: string;
  port: number;
  inject(rule: FaultRule): InjectedFault;
  /** Every command that went through (or was dropped), in order, as its arguments. */
  readonly commands: string[][];
  close(): Promise<void>;
}

interface Frame {
  raw: Buffer;
  value: RespValue;
}

const INCOMPLETE = Symbol('incomplete');

/** Splits a RESP byte stream into whole frames, each with its raw bytes and its decoded value. */
export class RespFrames {
  private buffer = Buffer.alloc(0);

  feed(chunk: Buffer): Frame[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const frames: Frame[] = [];
    let offset = 0;
    for (;;) {
      const parsed = this.parse(offset);
      if (parsed === INCOMPLETE) break;
      frames.push({ raw: this.buffer.subarray(offset, parsed.next), value: parsed.value });
      offset = parsed.next;
    }
    this.buffer = Buffer.from(this.buffer.subarray(offset));
    return frames;
  }

  private parse(offset: number): { value: RespValue; next: number } | typeof INCOMPLETE {
    if (offset >= this.buffer.length) return INCOMPLETE;
    const end = this.buffer.indexOf('\r\n', offset);
    if (end < 0) return INCOMPLETE;
    const type = String.fromCharCode(this.buffer[offset] ?? 0);
    const head = this.buffer.toString('utf8', offset + 1, end);
    const next = end + 2;
    switch (type) {
      case '+':
        return { value: head, next };
      case '-':
        return { value: { error: head }, next };
      case ':':
        return { value: Number(head), next };
      case '$': {
        const length = Number(head);
        if (length < 0) return { value: null, next };
        if (this.buffer.length < next + length + 2) return INCOMPLETE;
        return { value: this.buffer.toString('utf8', next, next + length), next: next + length + 2 };
      }
      case '*': {
        const count = Number(head);
        if (count < 0) return { value: null, next };
        const items: RespValue[] = [];
        let at = next;
        for (let i = 0; i < count; i++) {
          const item = this.parse(at);
          if (item === INCOMPLETE) return INCOMPLETE;
          items.push(item.value);
          at = item.next;
        }
        return { value: items, next: at };
      }
      default:
        throw new Error(`the proxy cannot read RESP type ${JSON.stringify(type)}`);
    }
  }
}

const argsOf = (value: RespValue): string[] =>
  Array.isArray(value) ? value.map((v) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '')) : [];

/** Bytes no RESP reader accepts: the client must treat the connection as broken. */
const GARBLED = Buffer.from('?garbled\r\n');

interface LiveRule extends Required<Omit<FaultRule, 'delayMs'>> {
  delayMs: number;
  seen: number;
  fired: number;
  cancelled: boolean;
  onFire: () => void;
}

/** Starts a proxy on a free loopback port in front of the redis-server on `targetPort`. */
export async function startRedisFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<RedisFaultProxy> {
  const rules: LiveRule[] = [];
  const commands: string[][] = [];
  const sockets = new Set<net.Socket>();

  /** Counts a matching command for the rule; true when this one is to be acted on. */
  const fires = (rule: LiveRule): boolean => {
    if (rule.cancelled) return false;
    rule.seen += 1;
    if (rule.seen < rule.nth || rule.seen >= rule.nth + rule.times) return false;
    rule.fired += 1;
    rule.onFire();
    return true;
  };

  const server = net.createServer((client) => {
    const upstream = net.connect({ host: targetHost, port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const requests = new RespFrames();
    const replies = new RespFrames();
    /** Per command forwarded, in order: the reply rules it matched, judged when its reply comes. */
    const awaiting: Array<{ command: string[]; rules: LiveRule[] }> = [];
    let forwarding = Promise.resolve();

    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);

    client.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = requests.feed(chunk);
      } catch {
        end();
        return;
      }
      for (const frame of frames) {
        const command = argsOf(frame.value);
        commands.push(command);
        const matching = rules.filter((r) => !r.cancelled && r.match(command));
        const commandRules = matching.filter((r) => r.action === 'drop-command' || r.action === 'delay');
        const replyRules = matching.filter((r) => r.action === 'drop-reply' || r.action === 'garble-reply');
        let drop = false;
        let delay = 0;
        for (const rule of commandRules) {
          if (!fires(rule)) continue;
          if (rule.action === 'drop-command') drop = true;
          else delay = Math.max(delay, rule.delayMs);
        }
        // Commands keep their order: a delayed one holds back those after it, as a slow link would.
        forwarding = forwarding.then(async () => {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          if (drop) return;
          awaiting.push({ command, rules: replyRules });
          if (!upstream.destroyed) upstream.write(frame.raw);
        });
      }
    });

    upstream.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = replies.feed(chunk);
      } catch {
        end();
        return;
      }
      for (const frame of frames) {
        const pending = awaiting.shift();
        const isError = frame.value !== null && typeof frame.value === 'object' && 'error' in frame.value;
        let out: Buffer | undefined = frame.raw;
        for (const rule of pending?.rules ?? []) {
          if (isError && !rule.countErrors) continue;
          if (!fires(rule)) continue;
          out = rule.action === 'drop-reply' ? undefined : GARBLED;
        }
        if (out && !client.destroyed) client.write(out);
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    commands,
    inject(rule) {
      let onFire = () => undefined as void;
      const firstFired = new Promise<void>((resolve) => (onFire = resolve));
      const live: LiveRule = {
        match: rule.match,
        action: rule.action,
        nth: rule.nth ?? 1,
        times: rule.times ?? 1,
        delayMs: rule.delayMs ?? 0,
        countErrors: rule.countErrors ?? false,
        seen: 0,
        fired: 0,
        cancelled: false,
        onFire: () => onFire(),
      };
      rules.push(live);
      return {
        get fired() {
          return live.fired;
        },
        firstFired,
        cancel() {
          live.cancelled = true;
        },
      };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A script call as the stores send it (EVALSHA/EVAL sha-or-body numkeys key… arg…): its keys and arguments. */
export function scriptCall(command: readonly string[]): { keys: string[]; args: string[] } | undefined {
  const name = command[0]?.toUpperCase();
  if (name !== 'EVALSHA' && name !== 'EVAL') return undefined;
  const numKeys = Number(command[2]);
  if (!Number.isInteger(numKeys) || numKeys < 0) return undefined;
  return { keys: command.slice(3, 3 + numKeys), args: command.slice(3 + numKeys) };
}

/**
 * One command on a connection of its own, independent of the client under test: for a test to look into the real
 * redis-server or to FLUSHALL it, or to send a command through the proxy. Rejects when no reply comes in time.
 */
export async function redisCommand(port: number, ...args: string[]): Promise<RespValue> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const frames = new RespFrames();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<RespValue>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply to ${args[0]} within ${REPLY_WAIT_MS} ms`)), REPLY_WAIT_MS);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`connection closed before the reply to ${args[0]}`)));
      socket.on('data', (chunk: Buffer) => {
        try {
          const [frame] = frames.feed(chunk);
          if (frame) resolve(frame.value);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      let head = `*${args.length}\r\n`;
      for (const a of args) head += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      socket.write(head);
    });
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

const REPLY_WAIT_MS = 300;

/** A hash as HGETALL gives it, as an object. */
export async function redisHash(port: number, key: string): Promise<Record<string, string>> {
  const flat = await redisCommand(port, 'HGETALL', key);
  const out: Record<string, string> = {};
  if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}
