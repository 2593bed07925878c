import { AppError } from '../errors.js';
import { quote } from '../redact.js';
import type { Delivery } from './delivery.js';
import { exactJson, utf8Text } from './parse.js';

/** The FC 3.0 HTTP trigger event (built-in runtimes). */
export interface FcHttpEvent {
  version?: string;
  rawPath?: string;
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  requestContext?: { requestId?: string; http?: { method?: string; path?: string } };
}

export interface FcHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: false;
  body: string;
}

export interface HttpRequestView {
  method: string;
  path: string;
  /** Lower-cased names; FC joins repeated headers with commas. */
  headers: Record<string, string>;
  body: Buffer;
}

export const MAX_BODY_BYTES = 256 * 1024;
export const SEND_PATH = '/coupons';
export const HEALTH_PATH = '/healthz';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const invalidEvent = (problem: string, path: string) =>
  new AppError(400, 'InvalidEvent', `The invocation payload is not a valid FC HTTP trigger event: ${problem}.`, {
    errors: [{ path, message: problem }],
  });

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function headersOf(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw invalidEvent('headers must be an object of strings', '/headers');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw invalidEvent('every header value must be a string', `/headers/${quote(k)}`);
    const name = k.toLowerCase();
    headers[name] = headers[name] === undefined ? v : `${headers[name]},${v}`;
  }
  return headers;
}

function bodyOf(raw: unknown, base64: unknown): Buffer {
  if (raw === undefined || raw === null) return Buffer.alloc(0);
  if (typeof raw !== 'string') throw invalidEvent('body must be a string', '/body');
  if (base64 !== undefined && typeof base64 !== 'boolean')
    throw invalidEvent('isBase64Encoded must be a boolean', '/isBase64Encoded');
  if (!base64) return Buffer.from(raw, 'utf8');
  if (!BASE64.test(raw)) throw invalidEvent('body is not valid base64', '/body');
  return Buffer.from(raw, 'base64');
}

function pathOf(event: Record<string, unknown>, http: Record<string, unknown>): string {
  if (typeof http['path'] === 'string') return http['path'];
  const raw = event['rawPath'] ?? '/';
  if (typeof raw !== 'string') throw invalidEvent('rawPath must be a string', '/rawPath');
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidEvent('rawPath has invalid percent-encoding', '/rawPath');
  }
}

/** Strict decoding of FC's HTTP event: anything malformed is a 400 answer, never a crash or a lenient guess. */
export function parseHttpEvent(event: Buffer): HttpRequestView {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Text(event, 'The invocation payload'));
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw invalidEvent('it is not JSON', '');
  }
  if (!isRecord(parsed)) throw invalidEvent('it is not a JSON object', '');
  const context = parsed['requestContext'];
  const http = isRecord(context) ? context['http'] : undefined;
  if (!isRecord(http) || typeof http['method'] !== 'string') {
    throw invalidEvent('requestContext.http.method is missing', '/requestContext/http/method');
  }
  return {
    method: http['method'].toUpperCase(),
    path: pathOf(parsed, http),
    headers: headersOf(parsed['headers']),
    body: bodyOf(parsed['body'], parsed['isBase64Encoded']),
  };
}

export type HttpRoute = { kind: 'health' } | { kind: 'send'; delivery: Delivery };

interface MediaType {
  type: string;
  charset?: string;
}

function mediaType(contentType: string | undefined): MediaType | undefined {
  const first = (contentType ?? '').split(',')[0];
  if (!first) return undefined;
  const [type = '', ...params] = first.split(';').map((p) => p.trim());
  const charset = params
    .map((p) => /^charset\s*=\s*"?([^";]*)"?$/i.exec(p)?.[1])
    .find((c): c is string => c !== undefined);
  return { type: type.toLowerCase(), ...(charset === undefined ? {} : { charset: charset.toLowerCase() }) };
}

const isJson = (type: string) => type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);

/** Routing and the HTTP rules of CONTRACT §4, before any validation of the send request itself. */
export function routeHttp(req: HttpRequestView): HttpRoute {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  if (path === HEALTH_PATH) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new AppError(405, 'MethodNotAllowed', `${quote(req.method)} is not allowed on ${HEALTH_PATH}; use GET.`);
    }
    return { kind: 'health' };
  }
  if (path !== SEND_PATH) {
    throw new AppError(404, 'NotFound', `No route for ${quote(req.path)}; coupons are sent with POST ${SEND_PATH}.`);
  }
  if (req.method !== 'POST') {
    throw new AppError(405, 'MethodNotAllowed', `${quote(req.method)} is not allowed on ${SEND_PATH}; use POST.`);
  }
  const media = mediaType(req.headers['content-type']);
  if (!media || !isJson(media.type)) {
    const got = req.headers['content-type'];
    throw new AppError(
      415,
      'UnsupportedMediaType',
      `Content-Type must be application/json (got ${got === undefined ? 'none' : quote(got)}).`,
    );
  }
  if (media.charset !== undefined && media.charset !== 'utf-8' && media.charset !== 'utf8') {
    throw new AppError(415, 'UnsupportedMediaType', `The body must be UTF-8 (got charset ${quote(media.charset)}).`);
  }
  if (req.body.length > MAX_BODY_BYTES) {
    throw new AppError(
      413,
      'PayloadTooLarge',
      `The body is ${req.body.length} bytes; at most ${MAX_BODY_BYTES} are accepted.`,
    );
  }
  const value = exactJson(utf8Text(req.body, 'The body'), 'The body');
  return { kind: 'send', delivery: { value, rule: { kind: 'required' }, label: {} } };
}

export function toFcHttpResponse(status: number, body: string, headers: Record<string, string>): FcHttpResponse {
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    isBase64Encoded: false,
    body,
  };
}
