import { createHmac, timingSafeEqual } from 'node:crypto';
import { percentEncode } from '../../lib/acs/encode.js';

/** V1 (RPC, HMAC-SHA1): the signature covers every parameter, query and form body together, but `Signature`. */
export function stringToSignV1(method: string, params: Readonly<Record<string, string>>): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] ?? '')}`)
    .join('&');
  return `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function signV1(method: string, params: Readonly<Record<string, string>>, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSignV1(method, params)).digest('base64');
}

export type V1VerifyResult =
  | { ok: true; accessKeyId: string }
  | {
      ok: false;
      code: 'IncompleteSignature' | 'SignatureDoesNotMatch' | 'InvalidAccessKeyId.NotFound';
      message: string;
    };

export function verifyV1(
  method: string,
  params: Readonly<Record<string, string>>,
  lookupSecret: (accessKeyId: string) => string | undefined,
): V1VerifyResult {
  const { Signature: given, AccessKeyId: accessKeyId } = params;
  if (!given || !accessKeyId || params['SignatureMethod'] !== 'HMAC-SHA1' || !params['SignatureNonce']) {
    return {
      ok: false,
      code: 'IncompleteSignature',
      message: 'Signature, AccessKeyId, SignatureMethod=HMAC-SHA1 and SignatureNonce are required.',
    };
  }
  const secret = lookupSecret(accessKeyId);
  if (secret === undefined)
    return { ok: false, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' };
  const a = Buffer.from(signV1(method, params, secret));
  const b = Buffer.from(given);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature does not conform to Aliyun standards.',
    };
  }
  return { ok: true, accessKeyId };
}
