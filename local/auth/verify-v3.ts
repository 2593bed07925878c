import { timingSafeEqual } from 'node:crypto';
import { ACS3_ALGORITHM, ACS_HEADER } from '../../lib/acs/constants.js';
import { sha256Hex } from '../../lib/sha256.js';
import { signV3, type V3Request } from '../../lib/acs/v3.js';

export interface ParsedV3Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION = new RegExp(
  `^${ACS3_ALGORITHM}\\s+Credential=([^,\\s]+),\\s*SignedHeaders=([^,\\s]*),\\s*Signature=([0-9a-f]{64})$`,
);

export function parseV3Authorization(header: string): ParsedV3Authorization | undefined {
  const match = AUTHORIZATION.exec(header.trim());
  if (!match) return undefined;
  const [, accessKeyId = '', signed = '', signature = ''] = match;
  return { accessKeyId, signedHeaders: signed === '' ? [] : signed.split(';'), signature };
}

export type V3VerifyResult =
  | { ok: true; accessKeyId: string; signedHeaders: string[] }
  | {
      ok: false;
      code: 'IncompleteSignature' | 'SignatureDoesNotMatch' | 'InvalidAccessKeyId.NotFound';
      message: string;
    };

export type V3VerifyRequest = Omit<V3Request, 'hashedPayload' | 'signedHeaders'> & { body: Uint8Array };
export type V3HeadRequest = Omit<V3Request, 'hashedPayload' | 'signedHeaders'>;

const SHA256_HEX = /^[0-9a-f]{64}$/;

const lowerCased = (headers: Readonly<Record<string, string>>) => {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  return lower;
};

/**
 * Verifies an ACS3 request the way Alibaba's gateways do: the signature covers exactly the headers the caller
 * lists in `SignedHeaders` (the Node SDK lists `host`, `content-type` and `x-acs-*`; SDKs in other languages
 * list every header they send), `required` must be among them, and the body hash must match the bytes that
 * arrived. Header names may come in any case.
 */
export function verifyV3(
  request: V3VerifyRequest,
  lookupSecret: (accessKeyId: string) => string | undefined,
  required: readonly string[],
): V3VerifyResult {
  const { body, ...head } = request;
  const claimed = lowerCased(request.headers)[ACS_HEADER.contentSha256];
  const parsed = signedHeadersPresent(lowerCased(request.headers), required);
  if ('code' in parsed) return parsed;
  if (claimed !== sha256Hex(body)) return bodyMismatch();
  return verifyV3Head(head, lookupSecret, required);
}

const bodyMismatch = (): V3VerifyResult => ({
  ok: false,
  code: 'SignatureDoesNotMatch',
  message: `${ACS_HEADER.contentSha256} does not match the request body.`,
});

/**
 * Everything but the body: the signature is checked over the body hash the caller signed (`x-acs-content-sha256`),
 * so a receiver can refuse a forged request before reading its body, and then compare the body's own hash.
 */
export function verifyV3Head(
  request: V3HeadRequest,
  lookupSecret: (accessKeyId: string) => string | undefined,
  required: readonly string[],
): V3VerifyResult {
  const lowerHeaders = lowerCased(request.headers);
  const parsed = signedHeadersPresent(lowerHeaders, required);
  if ('code' in parsed) return parsed;
  const hashedPayload = lowerHeaders[ACS_HEADER.contentSha256] ?? '';
  if (!SHA256_HEX.test(hashedPayload)) {
    return {
      ok: false,
      code: 'IncompleteSignature',
      message: `${ACS_HEADER.contentSha256} must be the lowercase hex SHA-256 of the body.`,
    };
  }
  const secret = lookupSecret(parsed.accessKeyId);
  if (secret === undefined) {
    return { ok: false, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' };
  }
  const expected = signV3(
    { ...request, headers: lowerHeaders, hashedPayload, signedHeaders: parsed.signedHeaders },
    parsed.accessKeyId,
    secret,
  );
  const a = Buffer.from(expected.signature);
  const b = Buffer.from(parsed.signature);
  if (expected.signedHeaders !== parsed.signedHeaders.join(';') || a.length !== b.length || !timingSafeEqual(a, b)) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature does not conform to Aliyun standards.',
    };
  }
  return { ok: true, accessKeyId: parsed.accessKeyId, signedHeaders: parsed.signedHeaders };
}

function signedHeadersPresent(
  lowerHeaders: Readonly<Record<string, string>>,
  required: readonly string[],
): ParsedV3Authorization | Extract<V3VerifyResult, { ok: false }> {
  const parsed = parseV3Authorization(lowerHeaders['authorization'] ?? '');
  if (!parsed) {
    return { ok: false, code: 'IncompleteSignature', message: 'The Authorization header is missing or malformed.' };
  }
  for (const name of [...required, ...parsed.signedHeaders]) {
    if (!parsed.signedHeaders.includes(name) || lowerHeaders[name] === undefined) {
      return { ok: false, code: 'IncompleteSignature', message: `The header ${name} must be present and signed.` };
    }
  }
  return parsed;
}
