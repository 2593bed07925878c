import { readFileSync } from 'node:fs';

/** The parent of `pid` from /proc (Linux), or undefined where /proc cannot tell. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields after it start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Calls `onGone` once when any process this one was started under has exited: `npm start` runs the stack as
 * npm → sh → tsx → node, and a kill of npm's pid (or tsx's) must not leave the gateway, the emulator and their
 * instances behind. The chain is read once at start (up to, not including, pid 1); checked every `everyMs`.
 */
export function watchAncestors(onGone: (pid: number) => void, everyMs = 500): () => void {
  const chain: number[] = [];
  for (let pid = process.ppid; pid > 1 && chain.length < 16;) {
    chain.push(pid);
    const next = parentOf(pid);
    if (next === undefined) break;
    pid = next;
  }
  const timer = setInterval(() => {
    const gone = chain.find((pid) => !alive(pid)) ?? (process.ppid !== chain[0] ? chain[0] : undefined);
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
