import type net from 'node:net';
import { ConnectionPool } from './connection-pool.js';
import { requestHead } from './request-head.js';
import { HttpParseError, ResponseParser } from './response-parser.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/**
 * A failure below HTTP. `written` is the line between safe and unknown: until the whole request has been
 * handed to the kernel and no byte of an answer has come back, the server cannot have acted on it (a request
 * framed by its content-length is not acted on half-read); after that, it may have.
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

export interface HttpTransportOptions {
  /** Extra trusted certificate (PEM) for https endpoints, for a private CA. */
  ca?: string;
}

const MAX_IDLE_MS = 4000;
const MAX_IDLE_PER_ORIGIN = 64;

/**
 * HTTP/1.1 over keep-alive sockets, written for this one exchange (POST a form, read one answer) rather than
 * through node:http, whose first request costs ~8 ms of start-up and every request ~0.1 ms more CPU.
 */
export function createHttpTransport(options: HttpTransportOptions = {}): Transport {
  const pool = new ConnectionPool({ maxIdleMs: MAX_IDLE_MS, maxIdlePerOrigin: MAX_IDLE_PER_ORIGIN, ca: options.ca });
  return {
    async send(url, request) {
      const head = requestHead(request.method, url, request.headers, Buffer.byteLength(request.body, 'utf8'));
      let socket: net.Socket;
      try {
        socket = await pool.acquire(url);
      } catch (err) {
        throw new TransportError(false, (err as NodeJS.ErrnoException).code ?? 'NetworkError', (err as Error).message);
      }
      return exchange(socket, head + request.body, request.timeoutMs, (reusable) => {
        if (reusable) pool.release(url, socket);
        else socket.destroy();
      });
    },
  };
}

function exchange(
  socket: net.Socket,
  message: string,
  timeoutMs: number,
  done: (reusable: boolean) => void,
): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const parser = new ResponseParser();
    let written = false;
    let answered = false;
    let settled = false;
    const detach = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (code: string, text: string) => {
      if (settled) return;
      settled = true;
      detach();
      done(false);
      reject(new TransportError(written, code, text));
    };
    const succeed = (status: number, headers: Record<string, string>, body: Buffer, reusable: boolean) => {
      settled = true;
      detach();
      done(reusable);
      resolve({ status, headers, body: body.toString('utf8') });
    };
    const parseFailure = (err: unknown) => {
      if (err instanceof HttpParseError) fail(err.code, err.message);
      else fail('BadResponse', String(err));
    };
    const onData = (chunk: Buffer) => {
      // An answer means the request arrived, whatever the write callback has yet to say.
      written = true;
      answered = true;
      try {
        const response = parser.push(chunk);
        if (response) succeed(response.status, response.headers, response.body, response.reusable);
      } catch (err) {
        parseFailure(err);
      }
    };
    const onEnd = () => {
      if (settled) return;
      if (!answered) {
        fail('ConnectionClosed', 'the connection closed without an answer');
        return;
      }
      try {
        const response = parser.end();
        succeed(response.status, response.headers, response.body, false);
      } catch (err) {
        parseFailure(err);
      }
    };
    const onError = (err: NodeJS.ErrnoException) => fail(err.code ?? 'NetworkError', err.message);
    const onClose = () => fail('ConnectionClosed', 'the connection closed without a complete answer');
    const timer = setTimeout(() => fail('Timeout', `no answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(message, 'utf8', (err) => {
      if (!err) written = true;
    });
  });
}
