import net from 'node:net';
import type tls from 'node:tls';

export interface PoolOptions {
  /** Sockets idle longer than this are not reused: a frozen FC instance wakes up holding sockets the server closed. */
  maxIdleMs: number;
  maxIdlePerOrigin: number;
  /** Extra trusted certificates (PEM) for https origins; the system's CAs otherwise. */
  ca?: string;
}

interface Idle {
  socket: net.Socket;
  since: number;
  gone: () => void;
}

const IDLE_EVENTS = ['end', 'close', 'error', 'data'] as const;

/** A connected (or connecting) socket per request, reusing keep-alive connections per origin. */
export class ConnectionPool {
  private readonly idle = new Map<string, Idle[]>();
  // node:tls costs ~5 ms to load: only on the first https origin, never at cold start.
  private tlsModule: Promise<typeof tls> | undefined;

  constructor(private readonly options: PoolOptions) {}

  /** An idle socket to `url`'s origin if a fresh one is left, else a new connection (writes queue until it opens). */
  async acquire(url: URL): Promise<net.Socket> {
    return this.take(url) ?? (await this.connect(url));
  }

  /** Keeps a socket whose exchange ended cleanly for the next request to the same origin. */
  release(url: URL, socket: net.Socket): void {
    const key = url.origin;
    const list = this.idle.get(key) ?? [];
    if (socket.destroyed || !socket.writable || list.length >= this.options.maxIdlePerOrigin) {
      socket.destroy();
      return;
    }
    // While idle, anything the server does (closing, resetting, sending unasked bytes) makes the socket unusable;
    // and an 'error' without a listener would crash the process.
    const entry: Idle = {
      socket,
      since: Date.now(),
      gone: () => {
        this.forget(key, entry);
        socket.destroy();
      },
    };
    for (const e of IDLE_EVENTS) socket.on(e, entry.gone);
    socket.unref();
    list.push(entry);
    this.idle.set(key, list);
  }

  private take(url: URL): net.Socket | undefined {
    const list = this.idle.get(url.origin);
    const now = Date.now();
    for (let entry = list?.pop(); entry; entry = list?.pop()) {
      const socket = this.detach(entry);
      if (now - entry.since <= this.options.maxIdleMs && !socket.destroyed && socket.writable) {
        socket.ref();
        return socket;
      }
      socket.destroy();
    }
    return undefined;
  }

  private detach(entry: Idle): net.Socket {
    for (const e of IDLE_EVENTS) entry.socket.off(e, entry.gone);
    return entry.socket;
  }

  private forget(key: string, entry: Idle): void {
    const list = this.idle.get(key);
    const at = list?.indexOf(entry) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
    this.detach(entry);
  }

  private async connect(url: URL): Promise<net.Socket> {
    // URL keeps the brackets of an IPv6 literal; sockets want the bare address.
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (url.protocol === 'http:') {
      const socket = net.connect({ host, port: Number(url.port || 80) });
      socket.setNoDelay(true);
      return socket;
    }
    if (url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
    const tlsApi = await (this.tlsModule ??= import('node:tls').then((m) => m.default));
    const socket = tlsApi.connect({
      host,
      port: Number(url.port || 443),
      servername: net.isIP(host) ? undefined : host,
      ALPNProtocols: ['http/1.1'],
      ...(this.options.ca ? { ca: [...tlsApi.rootCertificates, this.options.ca] } : {}),
    });
    socket.setNoDelay(true);
    return socket;
  }
}
