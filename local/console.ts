/**
 * What the stack prints: the JSON lines themselves (the default, as FC ships them to SLS), or with
 * LOG_FORMAT=pretty one readable line each: time, level, message, then the other fields as key=value.
 */
export type LogFormat = 'json' | 'pretty';

const LEVEL_COLOUR: Record<string, string> = { debug: '90', info: '36', warn: '33', error: '31' };
const SKIP = new Set(['time', 'level', 'msg']);

const valueText = (v: unknown): string => {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
};

/** One JSON log line as a person reads it; a line that is not a JSON object is left as it is. */
export function prettyLine(line: string, colour: boolean): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return line;
  const r = record as Record<string, unknown>;
  const time = typeof r['time'] === 'string' ? r['time'].slice(11, 23) : '';
  const level = typeof r['level'] === 'string' ? r['level'] : 'info';
  const paint = (code: string | undefined, text: string) => (colour && code ? `\u001b[${code}m${text}\u001b[0m` : text);
  const fields = Object.entries(r)
    .filter(([k, v]) => !SKIP.has(k) && v !== undefined)
    .map(([k, v]) => `${paint('90', `${k}=`)}${valueText(v)}`)
    .join(' ');
  return `${time} ${paint(LEVEL_COLOUR[level], level.toUpperCase().padEnd(5))} ${String(r['msg'] ?? '')}${fields ? `  ${fields}` : ''}`;
}

export function logFormatOf(value: string | undefined): LogFormat | string {
  if (value === undefined || value === '' || value === 'json') return 'json';
  if (value === 'pretty') return 'pretty';
  return `LOG_FORMAT must be "json" or "pretty" (got "${value.slice(0, 32)}")`;
}

/** A writer of JSON lines to stdout in the chosen format. */
export function consoleWriter(format: LogFormat, out: NodeJS.WriteStream = process.stdout): (line: string) => void {
  const colour = out.isTTY === true && process.env['NO_COLOR'] === undefined;
  return format === 'pretty' ? (l) => out.write(`${prettyLine(l, colour)}\n`) : (l) => out.write(`${l}\n`);
}
