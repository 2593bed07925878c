import { maskUid } from '../lib/redact.js';
import { inline } from './terminal.js';

/** Where a command writes: its result on stdout, notes and hints on stderr, a progress line only on a terminal. */
export interface Io {
  out: (text: string) => void;
  /** Notes, warnings and hints for people, on stderr, so --json output stays one clean document. */
  note: (text: string) => void;
  /** A progress line redrawn in place; absent when stderr is not a terminal (logs and pipes get none). */
  progress?: (done: number, total: number, label: string) => void;
}

/** What the command prints: a table for people, or one JSON document with --json. */
export interface Output extends Io {
  json: boolean;
  showUids: boolean;
}

export const uidFor = (o: Pick<Output, 'showUids'>, uid: string): string => (o.showUids ? uid : maskUid(uid));

/** A plain-text table: columns padded to their widest cell; a cell never carries a control character. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const safe = rows.map((r) => r.map(inline));
  const widths = headers.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...safe.map(line)].join('\n');
}
