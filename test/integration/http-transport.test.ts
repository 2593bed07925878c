import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTransport, TransportError, type HttpRequest } from '../../lib/http/transport.js';

const tlsDir = new URL('../fixtures/tls/', import.meta.url);
const cert = readFileSync(new URL('cert.pem', tlsDir), 'utf8');
const key = readFileSync(new URL('key.pem', tlsDir), 'utf8');

const request = (timeoutMs = 1000): HttpRequest => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: 'Action=SendCoupon&Note=优惠',
  timeoutMs,
});

interface RawServer {
  url: URL;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

type Answer = (socket: net.Socket, request: string, index: number) => void;

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A TCP server that reads each request whole (by content-length) and answers it with `answer`. */
async function rawServer(answer: Answer, secure = false): Promise<RawServer> {
  const state = { connections: 0, requests: [] as string[] };
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.toString('latin1', 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const text = pending.toString('utf8', 0, end + 4 + length);
        pending = pending.subarray(end + 4 + length);
        state.requests.push(text);
        answer(socket, text, state.requests.length - 1);
      }
    });
  };
  const server = secure ? tls.createServer({ cert, key }, onSocket) : net.createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const handle = {
    url: new URL(`${secure ? 'https' : 'http'}://${secure ? 'localhost' : '127.0.0.1'}:${port}/`),
    get connections() {
      return state.connections;
    },
    requests: state.requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

const ok = (body = '{"Success":true}', extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

describe('the HTTP transport, against servers that misbehave', () => {
  it('sends one well-formed request and reuses the connection for the next', async () => {
    const server = await rawServer((s) => s.write(ok()));
    const transport = createHttpTransport();
    for (let i = 0; i < 3; i++) {
      const answer = await transport.send(server.url, request());
      expect(answer).toMatchObject({ status: 200, body: '{"Success":true}' });
      expect(answer.headers['content-type']).toBe('application/json');
    }
    expect(server.connections).toBe(1);
    const [first] = server.requests;
    expect(first).toMatch(/^POST \/ HTTP\/1\.1\r\n/);
    expect(first).toContain(`host: ${server.url.host}\r\n`);
    expect(first).toContain(`content-length: ${Buffer.byteLength(request().body)}\r\n`);
    expect(first?.endsWith('\r\n\r\nAction=SendCoupon&Note=优惠')).toBe(true);
  });

  it('reads an answer that arrives a byte at a time, chunked', async () => {
    const body = '{"Success":true,"Message":"优惠券"}';
    const raw = Buffer.from(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    const server = await rawServer((s) => {
      let i = 0;
      const next = () => {
        if (i < raw.length) s.write(raw.subarray(i, ++i), () => setImmediate(next));
      };
      next();
    });
    expect((await createHttpTransport().send(server.url, request(5000))).body).toBe(body);
  });

  it('reads an answer framed by closing, and does not reuse that connection', async () => {
    const server = await rawServer((s) => s.end('HTTP/1.1 503 Service Unavailable\r\n\r\nbusy'));
    const transport = createHttpTransport();
    expect(await transport.send(server.url, request())).toMatchObject({ status: 503, body: 'busy' });
    expect(await transport.send(server.url, request())).toMatchObject({ status: 503 });
    expect(server.connections).toBe(2);
  });

  it('opens a new connection when the server closed the idle one', async () => {
    const server = await rawServer((s, _r, i) => (i === 0 ? s.end(ok()) : s.write(ok())));
    const transport = createHttpTransport();
    await transport.send(server.url, request());
    await new Promise((r) => setTimeout(r, 50));
    expect((await transport.send(server.url, request())).status).toBe(200);
    expect(server.connections).toBe(2);
  });

  it('an idle connection reset by the server does not crash the process', async () => {
    const server = await rawServer((s) => {
      s.write(ok());
      setTimeout(() => s.resetAndDestroy(), 10);
    });
    const transport = createHttpTransport();
    await transport.send(server.url, request());
    await new Promise((r) => setTimeout(r, 50));
    expect((await transport.send(server.url, request())).status).toBe(200);
  });

  it.each([
    ['closes without answering', (s: net.Socket) => s.end(), 'ConnectionClosed'],
    ['resets without answering', (s: net.Socket) => s.resetAndDestroy(), 'ECONNRESET'],
    [
      'answers half and closes',
      (s: net.Socket) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"Su'),
      'BadResponse',
    ],
    ['answers with garbage', (s: net.Socket) => s.write('HTTP/1.1 200 OK\r\nbroken header\r\n\r\n'), 'BadResponse'],
    ['never answers', () => undefined, 'Timeout'],
  ])('a server that %s after reading the request: may have acted (written)', async (_n, answer, code) => {
    const server = await rawServer(answer);
    const err = await failure(createHttpTransport().send(server.url, request(300)));
    expect(err).toMatchObject({ written: true, code });
  });

  it('a refused connection was never written', async () => {
    const err = await failure(createHttpTransport().send(new URL('http://127.0.0.1:9/'), request()));
    expect(err).toMatchObject({ written: false, code: 'ECONNREFUSED' });
  });

  it('a TLS handshake that never completes times out unwritten', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    servers.push({
      close: () =>
        new Promise<void>((r) => {
          for (const s of held) s.destroy();
          silent.close(() => r());
        }),
    });
    const { port } = silent.address() as net.AddressInfo;
    const err = await failure(createHttpTransport().send(new URL(`https://127.0.0.1:${port}/`), request(200)));
    expect(err).toMatchObject({ written: false, code: 'Timeout' });
  });

  it('speaks HTTPS with certificate checks: trusted CA passes, unknown CA is refused before anything is sent', async () => {
    const server = await rawServer((s) => s.write(ok()), true);
    expect((await createHttpTransport({ ca: cert }).send(server.url, request())).status).toBe(200);
    const err = await failure(createHttpTransport().send(server.url, request()));
    expect(err.written).toBe(false);
    expect(err.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a header that would inject another header or request', async () => {
    const server = await rawServer((s) => s.write(ok()));
    await expect(
      createHttpTransport().send(server.url, { ...request(), headers: { 'x-a': 'b\r\nx-injected: 1' } }),
    ).rejects.toThrow(/control character/);
    expect(server.requests).toHaveLength(0);
  });
});
