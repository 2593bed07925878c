import http from 'node:http';
import type https from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/**
 * A failure below HTTP. `written` is the line between safe and unknown: until the whole request has been
 * handed to the socket the server cannot have acted on it; after that, it may have.
 */
export class TransportError extends Error {
  constructor(
    readonly written: boolean,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface Transport {
  send(url: URL, request: HttpRequest): Promise<HttpAnswer>;
}

/** Sockets idle longer than this are not reused: a frozen FC instance wakes up holding sockets the server closed. */
const MAX_IDLE_MS = 4000;
const MAX_BODY_BYTES = 8 * 1024 * 1024;

type Client = typeof http | typeof https;

export function createHttpTransport(): Transport {
  let agent: http.Agent | undefined;
  let lastUsed = 0;
  // node:https pulls in TLS (~10 ms of start-up): loaded on the first https call, not at cold start.
  let httpsModule: Promise<typeof https> | undefined;
  const clientFor = async (secure: boolean): Promise<Client> =>
    secure ? await (httpsModule ??= import('node:https').then((m) => m.default)) : http;
  const agentFor = (client: Client) => {
    const now = Date.now();
    if (!agent || now - lastUsed > MAX_IDLE_MS) {
      agent?.destroy();
      agent = new client.Agent({ keepAlive: true, maxSockets: 64 });
    }
    lastUsed = now;
    return agent;
  };

  return {
    async send(url, request) {
      const client = await clientFor(url.protocol === 'https:');
      const pool = agentFor(client);
      return new Promise<HttpAnswer>((resolve, reject) => {
        let written = false;
        let settled = false;
        const fail = (err: TransportError) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          req.destroy();
          reject(err);
        };
        const req = client.request(url, {
          method: request.method,
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body, 'utf8')) },
          agent: pool,
        });
        const timer = setTimeout(() => {
          fail(new TransportError(written, 'Timeout', `no answer within ${request.timeoutMs} ms`));
        }, request.timeoutMs);
        req.on('finish', () => {
          written = true;
        });
        req.on('error', (err: NodeJS.ErrnoException) => {
          fail(new TransportError(written, err.code ?? 'NetworkError', err.message));
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY_BYTES) fail(new TransportError(true, 'ResponseTooLarge', 'the answer exceeded 8 MiB'));
            else chunks.push(c);
          });
          res.on('error', (err: NodeJS.ErrnoException) =>
            fail(new TransportError(true, err.code ?? 'NetworkError', err.message)),
          );
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const headers: Record<string, string | undefined> = {};
            for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
          });
        });
        // A string body lets Node write head and body in one piece, not as a two-buffer writev.
        req.end(request.body, 'utf8');
      });
    },
  };
}
