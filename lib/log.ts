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

/** No log line is longer than this (CONTRACT §7): SLS and most shippers cut or drop longer ones. */
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
  // A UTF-16 unit is at most 3 bytes of UTF-8: most lines are known short without counting.
  if (line.length * 3 <= MAX_LINE_BYTES || Buffer.byteLength(line) <= MAX_LINE_BYTES) return line;
  const short = JSON.stringify({ ...(shorten(record) as LogFields), truncated: true });
  if (Buffer.byteLength(short) <= MAX_LINE_BYTES) return short;
  const core: LogFields = { truncated: true };
  for (const k of ['time', 'level', 'msg', 'requestId', 'RequestId', 'trigger']) core[k] = shorten(record[k]);
  return JSON.stringify(core);
}

const stdoutWriter: LineWriter = (line) => {
  process.stdout.write(`${line}\n`);
};

/**
 * One JSON object per line on stdout. Bound fields travel with the logger object, never in module state, so
 * two invocations in one instance cannot mix their ids. Keys that look like secrets are redacted.
 */
export function createLogger(level: LogLevel, bound: LogFields = {}, write: LineWriter = stdoutWriter): Logger {
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[lvl] < min) return;
    const record: LogFields = { time: new Date().toISOString(), level: lvl, msg, ...bound };
    if (fields) redactInto(record, fields);
    try {
      write(toLine(record));
    } catch {
      write(JSON.stringify({ time: record['time'], level: lvl, msg, logError: 'fields could not be serialised' }));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, redactInto({ ...bound }, fields), write),
  };
}
