import type { Io } from './print.js';
import { inline, terminalSafe } from './terminal.js';

const BAR = 24;

/**
 * The process's own streams: everything written is made terminal-safe; the progress line is drawn on stderr
 * only when stderr is a terminal, and cleared before any other line is written.
 */
export function processIo(stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): Io {
  let drawn = false;
  const clear = () => {
    if (drawn) stderr.write('\r\u001b[2K');
    drawn = false;
  };
  return {
    out: (text) => {
      clear();
      stdout.write(`${terminalSafe(text)}\n`);
    },
    note: (text) => {
      clear();
      stderr.write(`${terminalSafe(text)}\n`);
    },
    ...(stderr.isTTY
      ? {
          progress: (done: number, total: number, label: string) => {
            const filled = total > 0 ? Math.round((done / total) * BAR) : BAR;
            const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${done}/${total}`;
            stderr.write(`\r\u001b[2K${bar} ${inline(label).slice(0, 60)}`);
            drawn = done < total;
            if (!drawn) stderr.write('\r\u001b[2K');
          },
        }
      : {}),
  };
}
