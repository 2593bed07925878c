import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A frozen (SIGSTOP) instance cannot notice that the gateway died: its `disconnect` handler runs only once it is
 * thawed, which nobody would do. This small process is never frozen; it learns every instance's pid and, when
 * the gateway's channel closes (stopped or killed, even by SIGKILL), kills every one still listed.
 */
const SOURCE = `
const pids = new Set();
process.on('message', (m) => { if (m.add) pids.add(m.add); if (m.remove) pids.delete(m.remove); });
process.on('disconnect', () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.exit(0);
});
`;

export interface Reaper {
  watch(pid: number): void;
  forget(pid: number): void;
  close(): void;
}

export function startReaper(): Reaper {
  const child: ChildProcess = spawn(process.execPath, ['-e', SOURCE], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  // The reaper must not keep the gateway's event loop alive, nor be waited for.
  child.unref();
  const channel = (child as ChildProcess & { channel?: { unref(): void } }).channel;
  channel?.unref();
  const tell = (message: { add?: number; remove?: number }) => {
    if (child.connected) child.send(message, () => undefined);
  };
  return {
    watch: (pid) => tell({ add: pid }),
    forget: (pid) => tell({ remove: pid }),
    close: () => {
      if (child.connected) child.disconnect();
    },
  };
}
