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

function redactInto(target: LogFields, fields: LogFields): LogFields {
  for (const k in fields) target[k] = SECRET_KEY.test(k) ? '[redacted]' : fields[k];
  return target;
}

export type LineWriter = (line: string) => void;

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
      write(JSON.stringify(record));
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
