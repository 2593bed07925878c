import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { FcContext, FcCredentials } from '../lib/fc.js';
import type { ChunkRecord, IdempotencyStore } from '../lib/idempotency/types.js';
import type { FcHttpResponse } from '../lib/triggers/http-event.js';
import type { CallerAuth } from './auth/caller-auth.js';
import type { InvocationOutcome, Invoker } from './instances/invoker.js';
import type { InvocationError } from './instances/protocol.js';
import type { AsyncInvokeConfig } from './async-tasks/config.js';
import { FcRefusal as GatewayRefusal } from './async-tasks/refusal.js';
import { asyncRoutes } from './async-tasks/routes.js';
import { AsyncTasks } from './async-tasks/tasks.js';
import { buildHttpEvent, eventInputOf } from './fc-http-event.js';
import { EVENTBRIDGE_PUT_EVENTS_PATH } from '../lib/acs/eventbridge.js';
import { createPutEvents, type PutEventsOptions } from './eventbridge/put-events.js';
import { BodyTimeout, BodyTooLarge, hardenServer, readBody, sendJson } from './http-io.js';
import { listen, type Listening } from './listen.js';
import type { LogTap } from './log-tap.js';

export interface FunctionSettings {
  timeoutSeconds: number;
  memoryMb: number;
}

export interface GatewayOptions {
  host?: string;
  port?: number;
  /** What runs the functions: instance processes (FC's model), or this process (LOCAL_INSTANCES=inline). */
  invoker: Invoker;
  /** Each function's timeout and memory, as s.yaml gives them: its context says them, the instances enforce them. */
  functionSettings: Record<string, FunctionSettings>;
  httpFunction: string;
  credentials: FcCredentials;
  region?: string;
  accountId?: string;
  /** The first async retry's delay; each later one doubles it. */
  asyncRetryDelayMs?: number;
  /** Each function's async configuration (s.yaml's asyncInvokeConfig); FC's defaults for a function left out. */
  asyncConfigs?: Record<string, AsyncInvokeConfig>;
  log?: (fields: Record<string, unknown>) => void;
  /** LOCAL_AUTH=function: every request must be ACS3-signed by a caller key, as FC's `function` auth demands. */
  callerAuth?: CallerAuth;
  /** The functions' idempotency store, served to `coupon status` and `coupon reconcile` under /__gateway/store/. */
  store?: IdempotencyStore;
  /** Where `X-Fc-Log-Type: Tail` finds an invocation's log lines. */
  logTap?: LogTap;
  /** The custom event bus and its rule: producers' PutEvents, routed as deployed (local/eventbridge/). */
  eventBus?: Omit<PutEventsOptions, 'deliver'>;
  /** The operations page (/__ui): behind the same caller check as everything else; true when it answered. */
  ui?: (
    request: { method: string; url: URL; headers: http.IncomingHttpHeaders; body: Buffer },
    res: http.ServerResponse,
  ) => Promise<boolean>;
}

export type Gateway = Listening;

/** InvokeFunction, FC 3.0 path and the FC 2.0 one that @alicloud/fc2 calls (the service name is not used). */
const INVOKE_PATHS = [
  /^\/2023-03-30\/functions\/([^/]+)\/invocations\/?$/,
  /^\/2016-08-15\/services\/[^/]+\/functions\/([^/]+)\/invocations\/?$/,
];
const INSTANCES = '/__gateway/instances';
const STORE_RECORDS = /^\/__gateway\/store\/records(?:\/([0-9a-f]{64})(?:\/chunks\/(\d+))?)?$/;
/** FC's limit on a synchronous invocation's payload. */
const MAX_BODY = 32 * 1024 * 1024;
const DEFAULT_ACCOUNT = '1234567890123456';

const fcRequestId = () =>
  `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(4).toString('hex')}-${randomBytes(6).toString('hex')}`;

const header = (req: http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function serialise(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result instanceof Uint8Array) return Buffer.from(result).toString('utf8');
  return JSON.stringify(result ?? null);
}

const errorOf = (err: unknown): InvocationError => ({
  errorMessage: err instanceof Error ? err.message : String(err),
  errorType: err instanceof Error ? err.name : 'Error',
});

/** FC's answer when no instance can take an invocation (its per-function instance limit): 429 ResourceThrottled. */
const THROTTLED = (message: string) => new GatewayRefusal(429, 'ResourceThrottled', message);

function refuse(res: http.ServerResponse, err: GatewayRefusal, requestId = fcRequestId()): void {
  const body = JSON.stringify({ Code: err.code, Message: err.message, RequestId: requestId });
  sendJson(res, err.status, body, { 'x-fc-request-id': requestId });
}

/**
 * The local stand-in for the FC 3.0 front end: InvokeFunction (Sync and Async with FC's default retries) for
 * every function, and every other request mapped to an HTTP trigger event for the HTTP function and back. No
 * request can stop it: a malformed one gets a 4xx, and nothing a function throws leaves this server.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? (() => undefined);
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const region = options.region ?? 'cn-hangzhou';
  const functionArn = (name: string) => `acs:fc:${region}:${accountId}:functions/${name}`;
  const { invoker } = options;

  const contextFor = (name: string, requestId: string, retryCount = 0): FcContext => {
    const settings = options.functionSettings[name];
    return {
      requestId,
      credentials: { ...options.credentials },
      function: {
        name,
        handler: 'index.handler',
        memory: settings?.memoryMb ?? 512,
        timeout: settings?.timeoutSeconds ?? 60,
      },
      service: { logProject: '', logStore: '', qualifier: 'LATEST' },
      region,
      accountId,
      retryCount,
    };
  };

  const tasks = new AsyncTasks({
    invoke: (name, event, context) => invoker.invoke(name, event, context),
    contextFor,
    functionArn,
    configs: options.asyncConfigs ?? {},
    retryDelayMs: options.asyncRetryDelayMs ?? 1000,
    log,
  });
  const asyncRoute = asyncRoutes({ tasks, has: (name) => invoker.has(name), functionArn });

  const isAsync = (req: http.IncomingMessage) => header(req, 'x-fc-invocation-type')?.toLowerCase() === 'async';

  /** The invocation's id: a stateful async task keeps the one its caller chose (X-Fc-Async-Task-Id), as FC does. */
  const invocationIdOf = (req: http.IncomingMessage): string =>
    (isAsync(req) ? header(req, 'x-fc-async-task-id') : undefined) ?? fcRequestId();

  /**
   * FC's Async answer: 202 at once; the invocation runs (and is retried) in the background as a task. A reused
   * task id is refused (409) before anything runs.
   */
  const acceptAsync = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    name: string,
    event: Buffer,
    requestId: string,
  ) => {
    const taskId = header(req, 'x-fc-async-task-id');
    tasks.submit(name, event, { requestId, ...(taskId === undefined ? {} : { taskId }) });
    res.writeHead(202, { 'x-fc-request-id': requestId, ...(taskId ? { 'x-fc-async-task-id': taskId } : {}) });
    res.end();
  };

  /**
   * Runs one synchronous invocation, with its log tail when the caller asked for it (X-Fc-Log-Type: Tail). A
   * throttled one is refused in FC's 429 shape, carrying this invocation's request id.
   */
  const runSync = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    name: string,
    event: Buffer,
    requestId: string,
  ) => {
    const tail = options.logTap && header(req, 'x-fc-log-type')?.toLowerCase() === 'tail' ? options.logTap : undefined;
    tail?.start(requestId);
    const outcome: InvocationOutcome = await invoker.invoke(name, event, contextFor(name, requestId));
    const headers = {
      'x-fc-request-id': requestId,
      ...(outcome.kind !== 'throttled' && outcome.instanceId ? { 'x-fc-instance-id': outcome.instanceId } : {}),
      ...(tail ? { 'x-fc-log-result': tail.finish(requestId) } : {}),
    };
    if (outcome.kind === 'throttled') {
      refuse(res, THROTTLED(outcome.message), requestId);
      return undefined;
    }
    return { outcome, headers };
  };

  const invoke = async (req: http.IncomingMessage, res: http.ServerResponse, name: string, event: Buffer) => {
    if (!invoker.has(name))
      throw new GatewayRefusal(404, 'FunctionNotFound', `function ${name.slice(0, 64)} does not exist`);
    const requestId = invocationIdOf(req);
    if (isAsync(req)) return acceptAsync(req, res, name, event, requestId);
    const out = await runSync(req, res, name, event, requestId);
    if (!out) return;
    if (out.outcome.kind === 'ok') return sendJson(res, 200, serialise(out.outcome.value), out.headers);
    sendJson(res, 200, JSON.stringify(out.outcome.error), {
      ...out.headers,
      'x-fc-error-type': 'UnhandledInvocationError',
    });
  };

  const viaHttpTrigger = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer) => {
    if (!invoker.has(options.httpFunction))
      throw new GatewayRefusal(404, 'FunctionNotFound', `no HTTP function ${options.httpFunction}`);
    const requestId = invocationIdOf(req);
    let event: Buffer;
    try {
      event = Buffer.from(
        JSON.stringify(buildHttpEvent({ ...eventInputOf(req), url, body, requestId, accountId, now: Date.now() })),
      );
    } catch {
      throw new GatewayRefusal(400, 'InvalidPath', 'the request path has invalid percent-encoding');
    }
    // FC's HTTP triggers take X-Fc-Invocation-Type: Async too: 202 at once, the function runs in the background.
    if (isAsync(req)) return acceptAsync(req, res, options.httpFunction, event, requestId);
    const out = await runSync(req, res, options.httpFunction, event, requestId);
    if (!out) return;
    if (out.outcome.kind !== 'ok') {
      sendJson(res, 502, JSON.stringify({ ...out.outcome.error, errorType: 'UnhandledInvocationError' }), {
        ...out.headers,
        'x-fc-error-type': 'UnhandledInvocationError',
      });
      return;
    }
    const answer = out.outcome.value as FcHttpResponse;
    const payload = answer.isBase64Encoded
      ? Buffer.from(answer.body, 'base64')
      : Buffer.from(answer.body ?? '', 'utf8');
    res.writeHead(answer.statusCode ?? 200, { ...(answer.headers ?? {}), ...out.headers });
    res.end(req.method === 'HEAD' ? undefined : payload);
  };

  /** The store's inspection primitives over HTTP: the local stack's store lives in this process. */
  const storeRoute = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    match: RegExpExecArray,
    body: Buffer,
  ) => {
    const store = options.store;
    if (!store) throw new GatewayRefusal(404, 'NoStore', 'this gateway serves no store');
    const [, key, chunk] = match;
    if (req.method === 'GET' && key === undefined) {
      const records = [];
      for await (const entry of store.list()) records.push(entry);
      return sendJson(res, 200, JSON.stringify({ records }));
    }
    if (req.method === 'GET' && key !== undefined && chunk === undefined) {
      const record = await store.get(key);
      if (!record) throw new GatewayRefusal(404, 'RecordNotFound', 'no operation has this key');
      return sendJson(res, 200, JSON.stringify({ key, record }));
    }
    if (req.method === 'PUT' && key !== undefined && chunk !== undefined) {
      let record: ChunkRecord;
      try {
        record = JSON.parse(body.toString('utf8')) as ChunkRecord;
      } catch {
        throw new GatewayRefusal(400, 'InvalidJson', 'the body must be a chunk record');
      }
      const amended = await store.amendChunk(key, Number(chunk), record, Date.now());
      return sendJson(res, amended ? 200 : 409, JSON.stringify({ amended }));
    }
    throw new GatewayRefusal(405, 'MethodNotAllowed', 'GET records, GET records/{key}, PUT records/{key}/chunks/{n}');
  };

  // EventBridge invokes the rule's target asynchronously: FC's retries and on-failure handling apply.
  const putEvents = options.eventBus
    ? createPutEvents({
        ...options.eventBus,
        deliver: (name, event) => void tasks.submit(name, event, { requestId: fcRequestId() }),
      })
    : undefined;

  const route = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    } catch {
      throw new GatewayRefusal(400, 'InvalidRequest', 'the Host header or the request target is not valid');
    }
    // EventBridge's endpoint signs its own way (acs:<id>:<signature>), which the bus checks itself.
    if (putEvents && url.pathname === EVENTBRIDGE_PUT_EVENTS_PATH && req.method === 'POST')
      return putEvents(req, res, url);
    // The caller's signature is checked on the head first: a forged request's body is never read into memory.
    const auth = options.callerAuth;
    const { method = 'GET', url: target = '/', headers, rawHeaders } = req;
    const head = auth?.head({ method, target, url, headers, rawHeaders });
    if (head?.ok === false) throw new GatewayRefusal(head.status, head.code, head.message);
    const body = await readBody(req, MAX_BODY);
    const verdict = auth && head ? auth.body(head, body) : undefined;
    if (verdict?.ok === false) throw new GatewayRefusal(verdict.status, verdict.code, verdict.message);
    if (options.ui && (await options.ui({ method, url, headers, body }, res))) return;
    const match = INVOKE_PATHS.map((p) => p.exec(url.pathname)).find((m) => m !== null);
    if (match && req.method === 'POST') {
      let name: string;
      try {
        name = decodeURIComponent(match[1] ?? '');
      } catch {
        throw new GatewayRefusal(400, 'InvalidPath', 'the function name has invalid percent-encoding');
      }
      return invoke(req, res, name, body);
    }
    const storeMatch = STORE_RECORDS.exec(url.pathname);
    if (storeMatch) return storeRoute(req, res, storeMatch, body);
    if (url.pathname === INSTANCES && req.method === 'GET') {
      return sendJson(res, 200, JSON.stringify({ instances: invoker.instances() }));
    }
    if (asyncRoute(req, res, url, body)) return;
    return viaHttpTrigger(req, res, url, body);
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof GatewayRefusal) return refuse(res, err);
      if (err instanceof BodyTooLarge || err instanceof BodyTimeout) {
        res.setHeader('connection', 'close');
        const status = err instanceof BodyTooLarge ? 413 : 408;
        return refuse(
          res,
          new GatewayRefusal(status, err instanceof BodyTooLarge ? 'PayloadTooLarge' : 'RequestTimeout', err.message),
        );
      }
      log({ msg: 'gateway error', error: errorOf(err).errorMessage });
      return refuse(res, new GatewayRefusal(500, 'GatewayError', 'the local gateway could not handle this request'));
    });
  });
  hardenServer(server);
  return listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
}
