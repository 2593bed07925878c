import type http from 'node:http';
import type https from 'node:https';
import type net from 'node:net';

/** How long a socket may idle when the server gave no hint: short, since a server may close it without saying. */
export const DEFAULT_MAX_IDLE_MS = 4000;
/**
 * Taken off the server's `Keep-Alive: timeout=N` hint: the server counts from its last byte, we from our last
 * read, and a close in flight must not meet our next request. With it, `timeout=1` means "never reuse".
 */
export const HINT_MARGIN_MS = 1000;
export const MAX_IDLE_PER_ORIGIN = 64;
/** TCP keep-alive probes on an idle socket, as node's agent sends them by default. */
const TCP_KEEPALIVE_DELAY_MS = 1000;

/**
 * How long a socket may stay idle after this answer: the server's hint less the margin, never above `cap`;
 * zero means do not keep it. Only a well-formed `timeout=<digits>` counts, wherever it stands in the header.
 */
export function maxIdleMs(keepAliveHeader: string | undefined, cap: number): number {
  if (keepAliveHeader === undefined) return cap;
  const hint = /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})\s*(?:[,;]|$)/i.exec(keepAliveHeader)?.[1];
  if (hint === undefined) return cap;
  return Math.max(0, Math.min(cap, Number(hint) * 1000 - HINT_MARGIN_MS));
}

interface Idle {
  since: number;
  maxIdleMs: number;
}

/** node:http's Agent, or node:https's (a subclass taking TLS options too). */
export type AgentClass = new (options: https.AgentOptions) => http.Agent;

/**
 * A keep-alive agent that never hands out a socket past the server's keep-alive hint. The socket timeout the
 * agent arms when a socket goes idle closes it in a running process; but an FC instance is frozen between
 * invocations, its timers stop while the server closes the socket, and on thaw the next request can run before
 * any timer does. So the idle age is also checked when a request is about to take a socket (`evictStale`), and
 * the request waits one turn of the event loop so that a close the kernel already holds is seen first.
 */
export function keepAliveAgent(Base: AgentClass, options: https.AgentOptions, cap: number) {
  const hints = new WeakMap<net.Socket, number>();
  const idle = new WeakMap<net.Socket, Idle>();

  class ExpiringAgent extends (Base as typeof http.Agent) {
    /** Records how long the socket of this answer may idle; called when its head arrives. */
    noteAnswer(socket: net.Socket, keepAliveHeader: string | undefined): void {
      hints.set(socket, maxIdleMs(keepAliveHeader, cap));
    }

    override keepSocketAlive(socket: net.Socket): boolean {
      const limit = hints.get(socket) ?? cap;
      hints.delete(socket);
      if (limit <= 0) return false;
      socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
      socket.unref();
      // The agent destroys a free socket on its 'timeout'.
      socket.setTimeout(limit);
      idle.set(socket, { since: Date.now(), maxIdleMs: limit });
      return true;
    }

    override reuseSocket(socket: net.Socket, req: http.ClientRequest): void {
      idle.delete(socket);
      socket.setTimeout(0);
      super.reuseSocket(socket, req);
    }

    /**
     * Destroys every free socket idle past its limit, by the clock rather than by a timer. The agent (first-in
     * first-out) drops destroyed sockets from the head of its free list and takes the head, so a destroyed
     * socket is never handed out.
     */
    evictStale(now = Date.now()): void {
      for (const list of Object.values(this.freeSockets)) {
        for (const socket of list ?? []) {
          const entry = idle.get(socket);
          if (!entry || now - entry.since > entry.maxIdleMs) socket.destroy();
        }
      }
    }

    hasFreeSocket(): boolean {
      for (const list of Object.values(this.freeSockets)) if (list && list.some((s) => !s.destroyed)) return true;
      return false;
    }
  }
  return new ExpiringAgent({ ...options, keepAlive: true, scheduling: 'fifo', maxFreeSockets: MAX_IDLE_PER_ORIGIN });
}

export type KeepAliveAgent = ReturnType<typeof keepAliveAgent>;

/**
 * Resolves after at least one poll phase of the event loop has run, so the close of an idle socket that
 * arrived while the process was frozen is read before a request could take that socket.
 */
export const afterPoll = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
