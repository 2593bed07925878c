import { createHmac, randomUUID } from 'node:crypto';
import type { AcsCredentials } from './sign-request.js';

/**
 * EventBridge's data-plane signature (`PutEvents` to `https://<account>.eventbridge.<region>.aliyuncs.com`), as
 * Alibaba's EventBridge SDKs make it: `Authorization: acs:<AccessKeyId>:<base64 HMAC-SHA1>` over the method,
 * Content-MD5, Content-Type, Date, the sorted `x-acs-*` headers and the path with its sorted query. It signs no
 * body hash (the service's design); the local gateway checks it the same way.
 */
export const EVENTBRIDGE_PUT_EVENTS_PATH = '/openapi/putEvents';
export const EVENTBRIDGE_CONTENT_TYPE = 'application/cloudevents-batch+json; charset=utf-8';

export interface EventBridgeRequest {
  method: string;
  path: string;
  query: Readonly<Record<string, string>>;
  /** Lower-case names. */
  headers: Readonly<Record<string, string>>;
}

const oneLine = (v: string) => v.replace(/[\t\n\r\f]/g, ' ').trim();

export function eventBridgeStringToSign(req: EventBridgeRequest): string {
  const h = req.headers;
  const acs = Object.keys(h)
    .filter((k) => k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${oneLine(h[k] ?? '')}\n`)
    .join('');
  const keys = Object.keys(req.query).sort();
  const resource = keys.length === 0 ? req.path : `${req.path}?${keys.map((k) => `${k}=${req.query[k]}`).join('&')}`;
  return `${req.method.toUpperCase()}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h['date'] ?? ''}\n${acs}${resource}`;
}

export const eventBridgeSignature = (stringToSign: string, secret: string): string =>
  createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');

/** The headers of a signed PutEvents call to `host` (the body is the JSON array of CloudEvents). */
export function signPutEvents(
  host: string,
  credentials: AcsCredentials,
  now: Date = new Date(),
  nonce: string = randomUUID(),
): Record<string, string> {
  const headers: Record<string, string> = {
    date: now.toUTCString(),
    host,
    accept: 'application/json',
    'content-type': EVENTBRIDGE_CONTENT_TYPE,
    'x-acs-signature-nonce': nonce,
    'x-acs-signature-method': 'HMAC-SHA1',
    'x-acs-signature-version': '1.0',
    'x-eventbridge-version': '2015-06-06',
  };
  if (credentials.securityToken) {
    headers['x-acs-accesskey-id'] = credentials.accessKeyId;
    headers['x-acs-security-token'] = credentials.securityToken;
  }
  const toSign = eventBridgeStringToSign({ method: 'POST', path: EVENTBRIDGE_PUT_EVENTS_PATH, query: {}, headers });
  headers['authorization'] =
    `acs:${credentials.accessKeyId}:${eventBridgeSignature(toSign, credentials.accessKeySecret)}`;
  return headers;
}

/** `acs:<id>:<signature>` → its parts, or undefined when malformed. */
export function parseEventBridgeAuthorization(value: string): { accessKeyId: string; signature: string } | undefined {
  const m = /^acs:([^:\s]+):([A-Za-z0-9+/]+=*)$/.exec(value);
  return m ? { accessKeyId: m[1] as string, signature: m[2] as string } : undefined;
}
