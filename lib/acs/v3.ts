import { createHmac } from 'node:crypto';
import { sha256Hex } from '../sha256.js';
import { ACS3_ALGORITHM } from './constants.js';
import { percentEncode } from './encode.js';

export interface V3Request {
  method: string;
  pathname: string;
  /** Decoded query parameters; values are encoded here, keys are taken as they are (as the SDK does). */
  query: Readonly<Record<string, string>>;
  /** Header names in any case; a name given twice in different cases is joined as the SDK joins it. */
  headers: Readonly<Record<string, string>>;
  /** Lowercase hex SHA-256 of the body bytes (the `x-acs-content-sha256` value). */
  hashedPayload: string;
  /**
   * Lower-case names of the headers to sign. Absent: the Node SDK's set (`host`, `content-type`, `x-acs-*`);
   * a verifier passes the caller's own `SignedHeaders`, since SDKs in other languages sign every header.
   */
  signedHeaders?: readonly string[];
}

export interface V3Signature {
  canonicalRequest: string;
  stringToSign: string;
  signedHeaders: string;
  signature: string;
  authorization: string;
}

function isSignedHeader(lowerName: string): boolean {
  return lowerName === 'host' || lowerName === 'content-type' || lowerName.startsWith('x-acs-');
}

function canonicalHeaders(
  headers: Readonly<Record<string, string>>,
  only: readonly string[] | undefined,
): { block: string; names: string[] } {
  const wanted = only ? new Set(only) : undefined;
  const entries: Array<[string, string]> = [];
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (wanted ? !wanted.has(lower) : !isSignedHeader(lower)) continue;
    entries.push([lower, (headers[name] as string).trim()]);
  }
  // By name, then value: a name given twice (in different cases) is signed once, its values sorted and joined.
  entries.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const names: string[] = [];
  let block = '';
  for (const [name, value] of entries) {
    if (names[names.length - 1] === name) block = `${block.slice(0, -1)},${value}\n`;
    else {
      names.push(name);
      block += `${name}:${value}\n`;
    }
  }
  return { block, names };
}

function canonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${k}=${percentEncode(query[k] ?? '')}`)
    .join('&');
}

function canonicalUri(pathname: string): string {
  return pathname.replace('+', '%20').replace('*', '%2A').replace('%7E', '~');
}

export function signV3(request: V3Request, accessKeyId: string, accessKeySecret: string): V3Signature {
  const { block, names } = canonicalHeaders(request.headers, request.signedHeaders);
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    canonicalUri(request.pathname),
    canonicalQuery(request.query),
    block,
    signedHeaders,
    request.hashedPayload,
  ].join('\n');
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
  const signature = createHmac('sha256', accessKeySecret).update(stringToSign).digest('hex');
  return {
    canonicalRequest,
    stringToSign,
    signedHeaders,
    signature,
    authorization: `${ACS3_ALGORITHM} Credential=${accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`,
  };
}
