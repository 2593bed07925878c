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
  const lowerHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) lowerHeaders[name.toLowerCase()] = value;
  const parsed = parseV3Authorization(lowerHeaders['authorization'] ?? '');
  if (!parsed) {
    return { ok: false, code: 'IncompleteSignature', message: 'The Authorization header is missing or malformed.' };
  }
  for (const name of [...required, ...parsed.signedHeaders]) {
    if (!parsed.signedHeaders.includes(name) || lowerHeaders[name] === undefined) {
      return { ok: false, code: 'IncompleteSignature', message: `The header ${name} must be present and signed.` };
    }
  }
  const bodyHash = sha256Hex(request.body);
  if (lowerHeaders[ACS_HEADER.contentSha256] !== bodyHash) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: `${ACS_HEADER.contentSha256} does not match the request body.`,
    };
  }
  const secret = lookupSecret(parsed.accessKeyId);
  if (secret === undefined) {
    return { ok: false, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' };
  }
  const expected = signV3(
    { ...request, headers: lowerHeaders, hashedPayload: bodyHash, signedHeaders: parsed.signedHeaders },
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
