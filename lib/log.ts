import { writeSync } from 'node:fs';
import type { LogLevel } from './config.js';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /secret|token|authorization|password/i;

/** Field names repeat from line to line: each is judged once. */
const secretNames = new Map<string, boolean>();
const isSecretName = (k: string): boolean => {
  let secret = secretNames.get(k);
  if (secret === undefined) {
    secret = SECRET_KEY.test(k);
    if (secretNames.size < 1000) secretNames.set(k, secret);
  }
  return secret;
};

function redactInto(target: LogFields, fields: LogFields): LogFields {
  for (const k in fields) target[k] = isSecretName(k) ? '[redacted]' : fields[k];
  return target;
}

export type LineWriter = (line: string) => void;

/** No log line is longer than this (docs/configuration.md): SLS and most shippers cut or drop longer ones. */
export const MAX_LINE_BYTES = 8192;
const MAX_FIELD_CHARS = 512;

/** Long strings cut and long lists shortened, field by field, so the line still says what happened. */
function shorten(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_FIELD_CHARS ? `${value.slice(0, MAX_FIELD_CHARS)}…` : value;
  if (depth > 3 || value === null || typeof value !== 'object') return depth > 3 ? '[…]' : value;
  if (Array.isArray(value)) {
    const head = value.slice(0, 20).map((v) => shorten(v, depth + 1));
    return value.length > 20 ? [...head, `… ${value.length - 20} more`] : head;
  }
  const out: LogFields = {};
  for (const [k, v] of Object.entries(value)) out[k] = shorten(v, depth + 1);
  return out;
}

/** The record as one line of at most MAX_LINE_BYTES: shortened field by field first, then reduced to its core. */
function toLine(record: LogFields): string {
  const line = JSON.stringify(record);
  if (Buffer.byteLength(line) <= MAX_LINE_BYTES) return line;
  const short = JSON.stringify({ ...(shorten(record) as LogFields), truncated: true });
  if (Buffer.byteLength(short) <= MAX_LINE_BYTES) return short;
  const core: LogFields = { truncated: true };
  for (const k of ['time', 'level', 'msg', 'requestId', 'RequestId', 'trigger']) core[k] = shorten(record[k]);
  return JSON.stringify(core);
}

/**
 * Where the local stack listens to every line the functions write (for FC's `X-Fc-Log-Type: Tail`): a global
 * symbol, so separately bundled functions in one process reach the same listener. Deployed, nothing is there.
 */
export const LOG_OBSERVER = Symbol.for('coupon-sender.log-observer');

/**
 * A line writer over a direct write (`write(2)` to fd 1, returning the bytes written) that falls back to a
 * queued stream: a write that cannot complete at once (EAGAIN on a non-blocking pipe that is full, or a short
 * write) hands that line's rest, and every later line, to the stream, so order is kept and nothing is lost.
 */
export function directLineWriter(
  writeDirect: (text: string) => number,
  queue: (chunk: string | Buffer) => void,
): LineWriter {
  let direct = true;
  return (line) => {
    const text = `${line}\n`;
    if (!direct) {
      queue(text);
      return;
    }
    let written = 0;
    try {
      written = writeDirect(text);
    } catch {
      // Nothing was written (EAGAIN), or stdout is closed, which the stream reports its own way.
    }
    if (written === Buffer.byteLength(text)) return;
    direct = false;
    queue(written === 0 ? text : Buffer.from(text).subarray(written));
  };
}

/** Lines go to fd 1 with one write(2) each, not through process.stdout's stream machinery, which costs more. */
const toStdout = directLineWriter(
  (text) => writeSync(1, text),
  (chunk) => process.stdout.write(chunk),
);
/**
 * Where a test run collects the lines instead of stdout, to show them only for a test that fails. Deployed,
 * nothing is there and every line goes to stdout.
 */
export const LOG_SINK = Symbol.for('coupon-sender.log-sink');

type LogGlobals = { [LOG_OBSERVER]?: LineWriter; [LOG_SINK]?: LineWriter };

const stdoutWriter: LineWriter = (line) => {
  const globals = globalThis as LogGlobals;
  globals[LOG_OBSERVER]?.(line);
  const sink = globals[LOG_SINK];
  if (sink) sink(line);
  else toStdout(line);
};

/** An object's JSON text as members to append to another object's: `,"a":1,"b":2`, or nothing. */
const members = (json: string): string => (json.length > 2 ? `,${json.slice(1, -1)}` : '');

/**
 * One JSON object per line on stdout. Bound fields travel with the logger object, never in module state, so
 * two invocations in one instance cannot mix their ids; they are serialised once, when the logger is made. Keys
 * that look like secrets are redacted.
 */
class JsonLogger implements Logger {
  private readonly min: number;
  /**
   * The bound fields as JSON members (`,"requestId":"...",...`), written once for every line; undefined when a
   * bound field replaces time, level or msg, and every line is then built whole.
   */
  private readonly boundText: string | undefined;

  constructor(
    private readonly level: LogLevel,
    private readonly bound: LogFields,
    private readonly write: LineWriter,
    boundText?: string,
  ) {
    this.min = RANK[level];
    this.boundText =
      boundText ?? ('time' in bound || 'level' in bound || 'msg' in bound ? undefined : members(JSON.stringify(bound)));
  }

  debug(msg: string, fields?: LogFields): void {
    this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.emit('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    const own = this.boundText === undefined ? undefined : this.ownFields(fields);
    if (own === undefined) return new JsonLogger(this.level, redactInto({ ...this.bound }, fields), this.write);
    return new JsonLogger(
      this.level,
      { ...this.bound, ...own },
      this.write,
      `${this.boundText}${members(JSON.stringify(own))}`,
    );
  }

  private emit(lvl: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (RANK[lvl] < this.min) return;
    const time = new Date().toISOString();
    let line: string;
    try {
      line = this.line(time, lvl, msg, fields);
    } catch {
      line = JSON.stringify({ time, level: lvl, msg, logError: 'fields could not be serialised' });
    }
    this.write(line);
  }

  private line(time: string, lvl: LogLevel, msg: string, fields: LogFields | undefined): string {
    const bound = this.boundText;
    const own = bound === undefined ? undefined : fields === undefined ? {} : this.ownFields(fields);
    if (bound !== undefined && own !== undefined) {
      const line = `{"time":"${time}","level":"${lvl}","msg":${JSON.stringify(msg)}${bound}${members(JSON.stringify(own))}}`;
      // A UTF-16 unit is at most 3 bytes of UTF-8: most lines are known short without counting.
      if (line.length * 3 <= MAX_LINE_BYTES || Buffer.byteLength(line) <= MAX_LINE_BYTES) return line;
    }
    const record: LogFields = { time, level: lvl, msg, ...this.bound };
    if (fields) redactInto(record, fields);
    return toLine(record);
  }

  /**
   * The line's own fields, redacted; undefined when one replaces a bound field (or time, level, msg), which then
   * keeps its place: the line is built whole. (`in` also sees Object.prototype's names: those take the slow way.)
   */
  private ownFields(fields: LogFields): LogFields | undefined {
    const own: LogFields = {};
    for (const k in fields) {
      if (k === 'time' || k === 'level' || k === 'msg' || k in this.bound) return undefined;
      own[k] = isSecretName(k) ? '[redacted]' : fields[k];
    }
    return own;
  }
}

export function createLogger(level: LogLevel, bound: LogFields = {}, write: LineWriter = stdoutWriter): Logger {
  return new JsonLogger(level, bound, write);
}
