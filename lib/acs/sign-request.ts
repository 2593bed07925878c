import { randomUUID } from 'node:crypto';
import { ACS_HEADER } from './constants.js';
import { acsTimestamp } from './encode.js';
import { sha256Hex } from '../sha256.js';
import { signV3 } from './v3.js';

const NO_QUERY: Readonly<Record<string, string>> = Object.freeze({});

export interface AcsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface RequestToSign {
  method: string;
  url: URL;
  /** Headers to send besides the signature's own; `content-type` is signed when given. */
  headers?: Readonly<Record<string, string>>;
  body: string | Uint8Array;
}

/**
 * The headers that make a request ACS3-HMAC-SHA256 signed, as Alibaba's Node SDK signs it: `host`,
 * `content-type` and every `x-acs-*` header, with the date, a fresh nonce and the body's SHA-256. This is what
 * FC's `function` auth checks on an HTTP trigger, what the local gateway checks with LOCAL_AUTH=function, and
 * what our ResellerTrade client sends.
 */
export function signRequest(
  request: RequestToSign,
  credentials: AcsCredentials,
  at: { date?: Date; nonce?: string } = {},
): Record<string, string> {
  const headers: Record<string, string> = {
    host: request.url.host,
    ...request.headers,
    [ACS_HEADER.date]: acsTimestamp(at.date ?? new Date()),
    [ACS_HEADER.nonce]: at.nonce ?? randomUUID().replaceAll('-', ''),
    [ACS_HEADER.contentSha256]: sha256Hex(request.body),
  };
  if (credentials.securityToken) {
    headers[ACS_HEADER.accessKeyId] = credentials.accessKeyId;
    headers[ACS_HEADER.securityToken] = credentials.securityToken;
  }
  const query = request.url.search === '' ? NO_QUERY : Object.fromEntries(request.url.searchParams);
  const { authorization } = signV3(
    {
      method: request.method,
      pathname: request.url.pathname,
      query,
      headers,
      hashedPayload: headers[ACS_HEADER.contentSha256] ?? '',
    },
    credentials.accessKeyId,
    credentials.accessKeySecret,
  );
  return { ...headers, authorization };
}
