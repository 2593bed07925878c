import { createRequire } from 'node:module';
import { createHash, randomUUID } from 'node:crypto';
import { signRequest } from '../../lib/acs/sign-request.js';

export const CALLER = { accessKeyId: 'caller-1', accessKeySecret: 'caller-secret-4d1f9c' };
export const CALLER_KEYS = `${CALLER.accessKeyId}:${CALLER.accessKeySecret},caller-2:second-secret-77aa`;

const require = createRequire(import.meta.url);
const OpenApiUtil = (
  require('@alicloud/openapi-util') as { default: { getAuthorization: (...a: unknown[]) => string } }
).default;

/** A POST signed with our caller helper (lib/acs/sign-request.ts). */
export function signedPost(url: string, body: string, key = CALLER, at: { date?: Date; nonce?: string } = {}) {
  const headers = signRequest(
    { method: 'POST', url: new URL(url), headers: { 'content-type': 'application/json' }, body },
    key,
    at,
  );
  return fetch(url, { method: 'POST', headers, body });
}

/** A POST signed by Alibaba's own Node signer (@alicloud/openapi-util), over the headers it signs. */
export function sdkSignedPost(url: string, body: string) {
  const u = new URL(url);
  const headers: Record<string, string> = {
    host: u.host,
    'content-type': 'application/json',
    'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
  };
  const request = { method: 'POST', pathname: u.pathname, headers, query: Object.fromEntries(u.searchParams) };
  const authorization = OpenApiUtil.getAuthorization(
    request,
    'ACS3-HMAC-SHA256',
    headers['x-acs-content-sha256'],
    CALLER.accessKeyId,
    CALLER.accessKeySecret,
  );
  return fetch(url, { method: 'POST', headers: { ...headers, authorization }, body });
}
