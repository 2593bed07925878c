import { LOG_OBSERVER, type LineWriter } from '../lib/log.js';

/** FC's `X-Fc-Log-Type: Tail` returns at most this much of an invocation's log, base64-encoded. */
const TAIL_BYTES = 4096;

/**
 * Collects the log lines an invocation writes, for `X-Fc-Log-Type: Tail`. Only invocations that asked for it are
 * collected. Instances hand over each line with the invocation it belongs to (one at a time per instance);
 * functions in the gateway's own process (LOCAL_INSTANCES=inline) are told apart by the request id every line
 * of theirs carries.
 */
export function createLogTap() {
  const open = new Map<string, string[]>();
  return {
    start(requestId: string): void {
      open.set(requestId, []);
    },
    /** One line of the invocation `requestId`; kept only while its tail is being collected. */
    add(requestId: string, line: string): void {
      open.get(requestId)?.push(line);
    },
    /** Listens to the lines of functions loaded into this process. */
    observeThisProcess(): void {
      const observe: LineWriter = (line) => {
        for (const [id, lines] of open) if (line.includes(`"requestId":"${id}"`)) lines.push(line);
      };
      (globalThis as { [LOG_OBSERVER]?: LineWriter })[LOG_OBSERVER] = observe;
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
