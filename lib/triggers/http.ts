import { AppError } from '../errors.js';
import { quote } from '../redact.js';
import type { Delivery } from './delivery.js';
import type { HttpRequestView } from './http-event.js';
import { exactJson, utf8Text } from './parse.js';

export const MAX_BODY_BYTES = 256 * 1024;
export const SEND_PATH = '/coupons';
export const HEALTH_PATH = '/healthz';

export const CAMPAIGNS_PREFIX = '/campaigns';

export type HttpRoute =
  { kind: 'health' } | { kind: 'campaign'; request: HttpRequestView } | { kind: 'send'; delivery: Delivery };

interface MediaType {
  type: string;
  charset?: string;
}

const PLAIN_JSON: MediaType = { type: 'application/json' };

function mediaType(contentType: string | undefined): MediaType | undefined {
  if (contentType === 'application/json') return PLAIN_JSON;
  const first = (contentType ?? '').split(',')[0];
  if (!first) return undefined;
  const [type = '', ...params] = first.split(';').map((p) => p.trim());
  const charset = params
    .map((p) => /^charset\s*=\s*"?([^";]*)"?$/i.exec(p)?.[1])
    .find((c): c is string => c !== undefined);
  return { type: type.toLowerCase(), ...(charset === undefined ? {} : { charset: charset.toLowerCase() }) };
}

const isJson = (type: string) => type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);

/** Routing and the HTTP rules of docs/requests.md, before any validation of the send request itself. */
export function routeHttp(req: HttpRequestView): HttpRoute {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  if (path === HEALTH_PATH) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new AppError(405, 'MethodNotAllowed', `${quote(req.method)} is not allowed on ${HEALTH_PATH}; use GET.`);
    }
    return { kind: 'health' };
  }
  if (path === CAMPAIGNS_PREFIX || path.startsWith(`${CAMPAIGNS_PREFIX}/`)) return { kind: 'campaign', request: req };
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
