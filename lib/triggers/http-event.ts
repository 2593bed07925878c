import { AppError } from '../errors.js';
import { quote } from '../redact.js';
import { refuseOverfullJson, utf8Text } from './parse.js';

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
    const text = utf8Text(event, 'The invocation payload');
    refuseOverfullJson(text, 'The invocation payload');
    parsed = JSON.parse(text);
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

export function toFcHttpResponse(status: number, body: string, headers: Record<string, string>): FcHttpResponse {
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    isBase64Encoded: false,
    body,
  };
}
