import type http from 'node:http';
import { acsTimestamp } from '../lib/acs/encode.js';
import { decodeUtf8 } from '../lib/json.js';

export interface HttpEventInput {
  method: string;
  /** The request target as it came (percent-encoded path and query). */
  url: URL;
  rawHeaders: readonly string[];
  httpVersion: string;
  sourceIp: string;
  body: Buffer;
  requestId: string;
  accountId: string;
  now: number;
}

/** Content types FC passes as text; anything else arrives base64-encoded. */
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

/** Repeated keys joined with commas, as FC does; header names keep the case the client sent. */
function joined(pairs: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return pairs;
}

/**
 * The FC 3.0 HTTP trigger event for one request, in the shape of FC's documentation and of the captured
 * events under test/events/. Throws URIError when the path's percent-encoding is invalid (the caller answers 400).
 */
export function buildHttpEvent(input: HttpEventInput) {
  const headers = joined(headerPairs(input.rawHeaders));
  const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  const userAgent = Object.entries(headers).find(([k]) => k.toLowerCase() === 'user-agent')?.[1] ?? '';
  // Bytes that are not UTF-8 go as base64 even for a text type, so the function sees them as they came.
  const text = isText(contentType) && decodeUtf8(input.body) !== undefined;
  return {
    version: 'v1',
    rawPath: input.url.pathname,
    body: text ? input.body.toString('utf8') : input.body.toString('base64'),
    isBase64Encoded: !text,
    headers,
    queryParameters: joined(input.url.searchParams),
    requestContext: {
      accountId: input.accountId,
      domainName: input.url.host,
      domainPrefix: 'local',
      http: {
        method: input.method,
        path: decodeURIComponent(input.url.pathname),
        protocol: `HTTP/${input.httpVersion}`,
        sourceIp: input.sourceIp,
        userAgent,
      },
      requestId: input.requestId,
      time: acsTimestamp(new Date(input.now)),
      timeEpoch: String(input.now),
    },
  };
}

export const eventInputOf = (req: http.IncomingMessage) => ({
  method: req.method ?? 'GET',
  rawHeaders: req.rawHeaders,
  httpVersion: req.httpVersion,
  sourceIp: req.socket.remoteAddress ?? '',
});
