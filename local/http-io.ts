import type http from 'node:http';

/** How long a request body may pause before the connection is given up (Node checks its own timeouts only every 30 s). */
const BODY_IDLE_MS = 5_000;

export class BodyTimeout extends Error {
  constructor() {
    super(`the request body stopped arriving for ${BODY_IDLE_MS} ms`);
    this.name = 'BodyTimeout';
  }
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/** The whole request body, or BodyTooLarge as soon as it passes `limit` (the rest is not read). */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        req.off('data', onData);
        reject(new BodyTimeout());
      }, BODY_IDLE_MS);
    };
    const onData = (c: Buffer) => {
      arm();
      size += c.length;
      if (size <= limit) {
        chunks.push(c);
        return;
      }
      clearTimeout(idle);
      req.off('data', onData);
      req.resume();
      reject(new BodyTooLarge(limit));
    };
    arm();
    req.on('data', onData);
    req.on('end', () => {
      clearTimeout(idle);
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      clearTimeout(idle);
      reject(err);
    });
  });
}

/** A JSON answer; a response that is already gone or started is left alone. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(body);
}

/**
 * Limits that keep one slow or hostile client from holding the stack: a request whose headers or body do not
 * arrive in time is answered 408 by Node and its connection closed.
 */
export function hardenServer(server: http.Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  // A request Node cannot parse (a bad Host, a broken request line) is answered and closed, never thrown.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
}
