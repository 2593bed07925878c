import type http from 'node:http';
import type net from 'node:net';
import { decodeUtf8 } from '../json.js';
import type { Logger } from '../log.js';
import { TransportError, transportError } from './failure.js';
import { afterPoll, DEFAULT_MAX_IDLE_MS, keepAliveAgent, type KeepAliveAgent } from './keep-alive.js';

export { TransportError } from './failure.js';

export interface HttpAnswer {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string | undefined>;
  body: string;
}

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body: string;
  /** The deadline of this attempt, from the call to the last byte of the answer. */
  timeoutMs: number;
}

export interface Transport {
  send(url: URL, request: HttpRequest): Promise<HttpAnswer>;
}

export interface HttpTransportOptions {
  /** Extra trusted certificate (PEM) for https endpoints, for a private CA. */
  ca?: string;
  /** Where a failure's raw library text goes; it never reaches an answer. */
  logger?: Pick<Logger, 'warn'>;
  /** How long a socket may idle when the server gives no keep-alive hint. */
  maxIdleMs?: number;
}

/** A response head larger than this is refused by node's parser, however its bytes arrive. */
export const MAX_HEAD_BYTES = 64 * 1024;
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN = /[\0\r\n]/;
/** Framing is node's to write: a caller's copy could contradict it and split one request into two. */
const FRAMING = new Set(['content-length', 'connection', 'transfer-encoding', 'keep-alive']);

function outgoingHeaders(method: string, headers: Readonly<Record<string, string>>, length: number) {
  if (!TOKEN.test(method)) throw new TypeError(`cannot send method ${JSON.stringify(method)}`);
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name] as string;
    if (!TOKEN.test(name) || FORBIDDEN.test(value))
      throw new TypeError(`header ${JSON.stringify(name)} cannot be sent: a bad name or a control character`);
    if (!FRAMING.has(name.toLowerCase())) out[name] = value;
  }
  out['content-length'] = String(length);
  return out;
}

interface Stack {
  request: typeof http.request;
  agent: KeepAliveAgent;
}

/**
 * node:http / node:https with a keep-alive agent per protocol. The platform frames and parses HTTP; what is ours
 * is what money needs from it: whether a failed request can have reached the server (decided from the socket),
 * one deadline per attempt, strict limits on the answer, and never reusing a socket the server may have closed.
 */
export function createHttpTransport(options: HttpTransportOptions = {}): Transport {
  const cap = options.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
  const stacks = new Map<string, Promise<Stack>>();
  // Loaded on the first call, not at cold start: an instance that never calls the upstream never pays for them.
  const load = async (protocol: string): Promise<Stack> => {
    if (protocol === 'http:') {
      const { Agent, request } = await import('node:http');
      return { request, agent: keepAliveAgent(Agent, {}, cap) };
    }
    if (protocol !== 'https:') throw new TypeError(`unsupported protocol ${protocol}`);
    const [{ Agent, request }, { rootCertificates }] = await Promise.all([import('node:https'), import('node:tls')]);
    const ca = options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca] };
    return { request, agent: keepAliveAgent(Agent, ca, cap) };
  };
  const stackFor = (protocol: string): Promise<Stack> => {
    let stack = stacks.get(protocol);
    if (!stack) {
      stack = load(protocol);
      stacks.set(protocol, stack);
    }
    return stack;
  };
  return {
    async send(url, request) {
      const headers = outgoingHeaders(request.method, request.headers, Buffer.byteLength(request.body, 'utf8'));
      const stack = await stackFor(url.protocol);
      stack.agent.evictStale();
      if (stack.agent.hasFreeSocket()) {
        await afterPoll();
        stack.agent.evictStale();
      }
      return exchange(stack, url, request, headers, options.logger);
    },
  };
}

function exchange(
  stack: Stack,
  url: URL,
  request: HttpRequest,
  headers: Record<string, string>,
  logger: Pick<Logger, 'warn'> | undefined,
): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    let socket: net.Socket | undefined;
    let bytesBefore = 0;
    let connected = false;
    let answered = false;
    let settled = false;
    /**
     * Whether any byte of this request can have reached the server: the socket must have been connected (TCP,
     * and for https the handshake done; a reused socket already was) and have taken bytes of this request.
     * Before the connection is up, node only queues the request in the socket; none of it has left.
     */
    const written = () => answered || (connected && socket !== undefined && socket.bytesWritten > bytesBefore);
    const fail = (err: TransportError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      logger?.warn('upstream transport failure', { code: err.code, written: err.written, detail: err.detail });
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new TransportError(written(), 'Timeout', `no answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    let req: http.ClientRequest;
    try {
      req = stack.request(url, {
        method: request.method,
        headers,
        agent: stack.agent,
        maxHeaderSize: MAX_HEAD_BYTES,
        // A repeated content-type is kept (and then fails the content check) rather than silently dropped.
        joinDuplicateHeaders: true,
      });
    } catch {
      // Node refused to build it (a path or header it cannot write): nothing was sent.
      clearTimeout(timer);
      reject(new TypeError(`the request to ${url.origin} cannot be sent: its path or headers are not valid HTTP`));
      return;
    }
    req.on('socket', (s: net.Socket) => {
      socket = s;
      bytesBefore = s.bytesWritten;
      if (req.reusedSocket) connected = true;
      else s.once('encrypted' in s ? 'secureConnect' : 'connect', () => (connected = true));
    });
    req.on('error', (err) => fail(transportError(written(), err)));
    req.on('response', (res) => {
      answered = true;
      const answerHeaders = headersOf(res.headers);
      stack.agent.noteAnswer(res.socket, answerHeaders['keep-alive']);
      const incomplete = () =>
        fail(new TransportError(true, 'BadResponse', 'the connection closed before the answer was complete'));
      const tooLarge = () => fail(new TransportError(true, 'ResponseTooLarge', 'the answer exceeds 8 MiB'));
      if (Number(answerHeaders['content-length'] ?? 0) > MAX_BODY_BYTES) return tooLarge();
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) tooLarge();
        else chunks.push(chunk);
      });
      res.on('error', incomplete);
      res.on('close', () => {
        if (!res.complete) incomplete();
      });
      res.on('end', () => {
        if (settled) return;
        const body = decodeUtf8(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
        if (body === undefined) return fail(new TransportError(true, 'BadResponse', 'the answer is not valid UTF-8'));
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: answerHeaders, body });
      });
    });
    req.end(request.body, 'utf8');
  });
}

function headersOf(raw: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name in raw) {
    const value = raw[name];
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
