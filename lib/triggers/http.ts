import { AppError } from '../errors.js';
import { JsonSyntaxError, parseJsonExact } from '../json.js';
import type { Delivery } from './delivery.js';

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

export function parseHttpEvent(event: Buffer): HttpRequestView {
  let parsed: FcHttpEvent;
  try {
    parsed = JSON.parse(event.toString('utf8')) as FcHttpEvent;
  } catch {
    throw new AppError(400, 'InvalidEvent', 'The invocation payload is not an FC HTTP trigger event (not JSON).');
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    typeof (parsed.requestContext?.http?.method ?? null) !== 'string'
  ) {
    throw new AppError(
      400,
      'InvalidEvent',
      'The invocation payload is not an FC HTTP trigger event (no requestContext.http.method).',
    );
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.headers ?? {})) {
    const name = k.toLowerCase();
    headers[name] = headers[name] === undefined ? String(v) : `${headers[name]},${String(v)}`;
  }
  const rawBody = parsed.body ?? '';
  return {
    method: String(parsed.requestContext?.http?.method).toUpperCase(),
    path: parsed.requestContext?.http?.path ?? decodeURIComponent(parsed.rawPath ?? '/'),
    headers,
    body: parsed.isBase64Encoded ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody, 'utf8'),
  };
}

export type HttpRoute = { kind: 'health' } | { kind: 'send'; delivery: Delivery };

function isJson(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(',')[0]?.split(';')[0]?.trim().toLowerCase();
  return media === 'application/json' || (media !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(media));
}

/** Routing and the HTTP rules of CONTRACT §4, before any validation of the send request itself. */
export function routeHttp(req: HttpRequestView): HttpRoute {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  if (path === HEALTH_PATH) {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new AppError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${HEALTH_PATH}; use GET.`);
    return { kind: 'health' };
  }
  if (path !== SEND_PATH)
    throw new AppError(404, 'NotFound', `No route for ${req.path}; coupons are sent with POST ${SEND_PATH}.`);
  if (req.method !== 'POST')
    throw new AppError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${SEND_PATH}; use POST.`);
  if (!isJson(req.headers['content-type'])) {
    throw new AppError(
      415,
      'UnsupportedMediaType',
      `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'}).`,
    );
  }
  if (req.body.length > MAX_BODY_BYTES)
    throw new AppError(
      413,
      'PayloadTooLarge',
      `The body is ${req.body.length} bytes; at most ${MAX_BODY_BYTES} are accepted.`,
    );
  let value: unknown;
  try {
    value = parseJsonExact(req.body.toString('utf8'));
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new AppError(400, 'InvalidJson', `The body is not valid JSON: ${err.message}.`, {
      errors: [{ path: '', message: `invalid JSON: ${err.message}` }],
    });
  }
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
