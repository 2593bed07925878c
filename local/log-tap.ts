import { LOG_OBSERVER, type LineWriter } from '../lib/log.js';

/** FC's `X-Fc-Log-Type: Tail` returns at most this much of an invocation's log, base64-encoded. */
const TAIL_BYTES = 4096;

/**
 * Collects the log lines an invocation writes, told apart by the FC request id every line of the functions
 * carries, for `X-Fc-Log-Type: Tail`. Only invocations that asked for it are collected.
 */
export function createLogTap() {
  const open = new Map<string, string[]>();
  const observe: LineWriter = (line) => {
    for (const [id, lines] of open) if (line.includes(`"requestId":"${id}"`)) lines.push(line);
  };
  (globalThis as { [LOG_OBSERVER]?: LineWriter })[LOG_OBSERVER] = observe;

  return {
    start(requestId: string): void {
      open.set(requestId, []);
    },
    /** The tail as FC sends it in `X-Fc-Log-Result`: the last 4 KB of the lines, base64. */
    finish(requestId: string): string {
      const lines = open.get(requestId) ?? [];
      open.delete(requestId);
      const all = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
      return all.subarray(Math.max(0, all.length - TAIL_BYTES)).toString('base64');
    },
  };
}

export type LogTap = ReturnType<typeof createLogTap>;
