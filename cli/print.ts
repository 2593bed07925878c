import { maskUid } from '../lib/redact.js';

/** What the command prints: a table for people, or one JSON document with --json. */
export interface Output {
  json: boolean;
  showUids: boolean;
  out: (text: string) => void;
  /** Progress and notes for people, on stderr, so --json output stays clean. */
  progress: (text: string) => void;
}

export const uidFor = (o: Pick<Output, 'showUids'>, uid: string): string => (o.showUids ? uid : maskUid(uid));

/** A plain-text table: columns padded to their widest cell. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Exit status: 0 only on full success (CONTRACT §9). */
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3 } as const;
