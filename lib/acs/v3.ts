import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { percentEncode } from './encode.js';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface V3Request {
  method: string;
  pathname: string;
  /** Decoded query parameters; values are encoded here, keys are taken as they are (as the SDK does). */
  query: Readonly<Record<string, string>>;
  /** Header names in any case; a name given twice in different cases is joined as the SDK joins it. */
  headers: Readonly<Record<string, string>>;
  /** Lowercase hex SHA-256 of the body bytes (the `x-acs-content-sha256` value). */
  hashedPayload: string;
}

export interface V3Signature {
  canonicalRequest: string;
  stringToSign: string;
  signedHeaders: string;
  signature: string;
  authorization: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function isSignedHeader(lowerName: string): boolean {
  return lowerName === 'host' || lowerName === 'content-type' || lowerName.startsWith('x-acs-');
}

function canonicalHeaders(headers: Readonly<Record<string, string>>): { block: string; names: string[] } {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!isSignedHeader(lower)) continue;
    const values = grouped.get(lower) ?? [];
    values.push(value.trim());
    grouped.set(lower, values);
  }
  const names = [...grouped.keys()].sort();
  const block = names.map((n) => `${n}:${(grouped.get(n) ?? []).sort().join(',')}\n`).join('');
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
  const { block, names } = canonicalHeaders(request.headers);
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

export interface ParsedV3Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

export function parseV3Authorization(header: string): ParsedV3Authorization | undefined {
  const match = /^ACS3-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]*),\s*Signature=([0-9a-f]{64})$/.exec(
    header.trim(),
  );
  if (!match) return undefined;
  const [, accessKeyId = '', signed = '', signature = ''] = match;
  return { accessKeyId, signedHeaders: signed === '' ? [] : signed.split(';'), signature };
}

export type V3VerifyResult =
  | { ok: true; accessKeyId: string }
  | {
      ok: false;
      code: 'IncompleteSignature' | 'SignatureDoesNotMatch' | 'InvalidAccessKeyId.NotFound';
      message: string;
    };

/**
 * Verifies an ACS3 request the way the gateway must: only the headers the client named are signed, the
 * mandatory ones must be among them, and the body hash must match the bytes that arrived.
 */
export function verifyV3(
  request: Omit<V3Request, 'hashedPayload'> & { body: Uint8Array },
  lookupSecret: (accessKeyId: string) => string | undefined,
): V3VerifyResult {
  const lowerHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) lowerHeaders[name.toLowerCase()] = value;
  const parsed = parseV3Authorization(lowerHeaders['authorization'] ?? '');
  if (!parsed)
    return { ok: false, code: 'IncompleteSignature', message: 'The Authorization header is missing or malformed.' };
  for (const required of [
    'host',
    'x-acs-action',
    'x-acs-content-sha256',
    'x-acs-date',
    'x-acs-signature-nonce',
    'x-acs-version',
  ]) {
    if (!parsed.signedHeaders.includes(required) || lowerHeaders[required] === undefined) {
      return { ok: false, code: 'IncompleteSignature', message: `The header ${required} must be present and signed.` };
    }
  }
  const bodyHash = sha256Hex(request.body);
  if (lowerHeaders['x-acs-content-sha256'] !== bodyHash) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'x-acs-content-sha256 does not match the request body.',
    };
  }
  const secret = lookupSecret(parsed.accessKeyId);
  if (secret === undefined) {
    return { ok: false, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' };
  }
  const signedOnly: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = lowerHeaders[name];
    if (value !== undefined) signedOnly[name] = value;
  }
  const expected = signV3({ ...request, headers: signedOnly, hashedPayload: bodyHash }, parsed.accessKeyId, secret);
  const a = Buffer.from(expected.signature);
  const b = Buffer.from(parsed.signature);
  if (expected.signedHeaders !== parsed.signedHeaders.join(';') || a.length !== b.length || !timingSafeEqual(a, b)) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature does not conform to Aliyun standards.',
    };
  }
  return { ok: true, accessKeyId: parsed.accessKeyId };
}
