import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { FcContext, FcCredentials } from '../lib/fc.js';
import type { FcHttpResponse } from '../lib/triggers/http.js';
import { listen, type Listening } from './listen.js';

export type FcFunction = (event: Buffer, context: FcContext) => Promise<unknown>;

export interface GatewayOptions {
  host?: string;
  port?: number;
  functions: Record<string, FcFunction>;
  httpFunction: string;
  credentials: FcCredentials;
  region?: string;
  accountId?: string;
  timeoutSeconds?: number;
  /** Delays before FC's async retries (FC retries a failed async invocation 3 times by default). */
  asyncRetryDelaysMs?: number[];
  log?: (fields: Record<string, unknown>) => void;
}

export interface AsyncRecord {
  requestId: string;
  functionName: string;
  status: 'running' | 'succeeded' | 'failed';
  attempts: number;
  result?: unknown;
  error?: { errorMessage: string; errorType: string };
}

export type Gateway = Listening;

/** InvokeFunction, FC 3.0 path and the FC 2.0 one that @alicloud/fc2 calls (the service name is not used). */
const INVOKE_PATHS = [
  /^\/2023-03-30\/functions\/([^/]+)\/invocations\/?$/,
  /^\/2016-08-15\/services\/[^/]+\/functions\/([^/]+)\/invocations\/?$/,
];
const MAX_BODY = 32 * 1024 * 1024;

const fcRequestId = () =>
  `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(4).toString('hex')}-${randomBytes(6).toString('hex')}`;

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('request body above 32 MB'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isText(contentType: string | undefined): boolean {
  const ct = (contentType ?? '').toLowerCase();
  return (
    ct === '' ||
    ct.startsWith('text/') ||
    ct.includes('json') ||
    ct.includes('xml') ||
    ct.includes('x-www-form-urlencoded')
  );
}

function serialise(result: unknown): string {
  if (typeof result === 'string') return result;
  if (Buffer.isBuffer(result)) return result.toString('utf8');
  return JSON.stringify(result ?? null);
}

/**
 * The local stand-in for the FC 3.0 front end: InvokeFunction (Sync and Async with FC's default retries) for
 * every function, and every other request mapped to an HTTP trigger event for the HTTP function and back.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const asyncRecords = new Map<string, AsyncRecord>();
  const log = options.log ?? (() => undefined);
  const retryDelays = options.asyncRetryDelaysMs ?? [1000, 2000, 4000];

  const contextFor = (name: string, requestId: string, retryCount = 0): FcContext => ({
    requestId,
    credentials: { ...options.credentials },
    function: { name, handler: 'index.handler', memory: 512, timeout: options.timeoutSeconds ?? 60 },
    service: { logProject: '', logStore: '', qualifier: 'LATEST' },
    region: options.region ?? 'cn-hangzhou',
    accountId: options.accountId ?? '1234567890123456',
    retryCount,
  });

  const invokeAsync = (name: string, fn: FcFunction, event: Buffer, requestId: string) => {
    const record: AsyncRecord = { requestId, functionName: name, status: 'running', attempts: 0 };
    asyncRecords.set(requestId, record);
    void (async () => {
      for (let attempt = 0; attempt <= retryDelays.length; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, retryDelays[attempt - 1]));
        record.attempts = attempt + 1;
        try {
          record.result = await fn(event, contextFor(name, requestId, attempt));
          record.status = 'succeeded';
          return;
        } catch (err) {
          record.error = {
            errorMessage: err instanceof Error ? err.message : String(err),
            errorType: err instanceof Error ? err.name : 'Error',
          };
          log({
            msg: 'async invocation failed',
            functionName: name,
            requestId,
            attempt: attempt + 1,
            willRetry: attempt < retryDelays.length,
            error: record.error.errorMessage,
          });
        }
      }
      record.status = 'failed';
    })();
  };

  const invoke = async (req: http.IncomingMessage, res: http.ServerResponse, name: string) => {
    const fn = options.functions[name];
    if (!fn) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Code: 'FunctionNotFound', Message: `function ${name} does not exist` }));
      return;
    }
    const event = await readBody(req);
    const requestId = fcRequestId();
    const type = String(req.headers['x-fc-invocation-type'] ?? 'Sync').toLowerCase();
    if (type === 'async') {
      invokeAsync(name, fn, event, requestId);
      res.writeHead(202, { 'x-fc-request-id': requestId });
      res.end();
      return;
    }
    try {
      const result = await fn(event, contextFor(name, requestId));
      res.writeHead(200, { 'content-type': 'application/json', 'x-fc-request-id': requestId });
      res.end(serialise(result));
    } catch (err) {
      const body = {
        errorMessage: err instanceof Error ? err.message : String(err),
        errorType: err instanceof Error ? err.name : 'Error',
      };
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-fc-request-id': requestId,
        'x-fc-error-type': 'UnhandledInvocationError',
      });
      res.end(JSON.stringify(body));
    }
  };

  const viaHttpTrigger = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const fn = options.functions[options.httpFunction];
    if (!fn) throw new Error(`no HTTP function ${options.httpFunction}`);
    const body = await readBody(req);
    const requestId = fcRequestId();
    const headers: Record<string, string> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i] ?? '';
      const v = req.rawHeaders[i + 1] ?? '';
      headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
    }
    const queryParameters: Record<string, string> = {};
    for (const [k, v] of url.searchParams)
      queryParameters[k] = queryParameters[k] === undefined ? v : `${queryParameters[k]},${v}`;
    const text = isText(req.headers['content-type']);
    const now = Date.now();
    const event = {
      version: 'v1',
      rawPath: url.pathname,
      body: text ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: !text,
      headers,
      queryParameters,
      requestContext: {
        accountId: options.accountId ?? '1234567890123456',
        domainName: `${url.host}`,
        domainPrefix: 'local',
        http: {
          method: req.method ?? 'GET',
          path: decodeURIComponent(url.pathname),
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: req.socket.remoteAddress ?? '',
          userAgent: req.headers['user-agent'] ?? '',
        },
        requestId,
        time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        timeEpoch: String(now),
      },
    };
    let answer: FcHttpResponse;
    try {
      answer = (await fn(
        Buffer.from(JSON.stringify(event)),
        contextFor(options.httpFunction, requestId),
      )) as FcHttpResponse;
    } catch (err) {
      res.writeHead(502, {
        'content-type': 'application/json',
        'x-fc-request-id': requestId,
        'x-fc-error-type': 'UnhandledInvocationError',
      });
      res.end(
        JSON.stringify({
          errorMessage: err instanceof Error ? err.message : String(err),
          errorType: 'UnhandledInvocationError',
        }),
      );
      return;
    }
    const payload = answer.isBase64Encoded
      ? Buffer.from(answer.body, 'base64')
      : Buffer.from(answer.body ?? '', 'utf8');
    res.writeHead(answer.statusCode ?? 200, { ...(answer.headers ?? {}), 'x-fc-request-id': requestId });
    res.end(req.method === 'HEAD' ? undefined : payload);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const match = INVOKE_PATHS.map((p) => p.exec(url.pathname)).find((m) => m !== null);
    let work: Promise<void>;
    if (match && req.method === 'POST') work = invoke(req, res, decodeURIComponent(match[1] ?? ''));
    else if (url.pathname.startsWith('/__gateway/invocations/') && req.method === 'GET') {
      const record = asyncRecords.get(url.pathname.slice('/__gateway/invocations/'.length));
      res.writeHead(record ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(record ?? { Code: 'NotFound' }));
      return;
    } else work = viaHttpTrigger(req, res, url);
    work.catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ errorMessage: err instanceof Error ? err.message : String(err), errorType: 'GatewayError' }),
      );
    });
  });
  return listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
}
