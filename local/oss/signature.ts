import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * OSS request signatures, verified from the documented algorithms and not from any SDK's code, so the real
 * `ali-oss` client is checked by an independent implementation:
 * V1 (help.aliyun.com/document_detail/31951.htm): `Authorization: OSS AccessKeyId:base64(HMAC-SHA1(secret,
 *   VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedOSSHeaders CanonicalizedResource))`;
 * V4 (alibabacloud.com/help/en/oss/developer-reference/recommend-to-use-signature-version-4):
 *   `OSS4-HMAC-SHA256 Credential=AK/date/region/oss/aliyun_v4_request[,AdditionalHeaders=…],Signature=hex`.
 */

export interface OssCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS credentials: the request must carry this `x-oss-security-token`. */
  securityToken?: string;
}

export interface SignedRequest {
  method: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string>>;
  bucket: string;
  /** The object key, decoded; '' for bucket operations. */
  key: string;
  /** Query parameters, decoded, in the order they came. */
  query: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
}

export type VerifyResult =
  | { ok: true; accessKeyId: string }
  | { ok: false; status: number; code: string; message: string; accessKeyId?: string; stringToSign?: string };

/** How far a request's time may be from the server's (OSS refuses more with RequestTimeTooSkewed). */
export const MAX_SKEW_MS = 15 * 60 * 1000;

/** Query parameters that are sub-resources: the only ones a V1 signature covers. */
const V1_SUBRESOURCES = new Set([
  'acl',
  'append',
  'bucketInfo',
  'cname',
  'comp',
  'continuation-token',
  'cors',
  'delete',
  'encryption',
  'endTime',
  'img',
  'lifecycle',
  'live',
  'location',
  'logging',
  'objectMeta',
  'partNumber',
  'position',
  'qos',
  'referer',
  'replication',
  'replicationLocation',
  'replicationProgress',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'security-token',
  'sequential',
  'startTime',
  'stat',
  'status',
  'style',
  'styleName',
  'symlink',
  'tagging',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'vod',
  'website',
  'x-oss-process',
  'x-oss-traffic-limit',
]);

const V1_AUTHORIZATION = /^OSS ([^:\s]+):([A-Za-z0-9+/]{27}=)$/;
const V4_AUTHORIZATION =
  /^OSS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/oss\/aliyun_v4_request,(?:AdditionalHeaders=([a-z0-9;-]+),)?Signature=([0-9a-f]{64})$/;
const V4_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

type Refusal = Extract<VerifyResult, { ok: false }>;

const denied = (code: string, message: string, extra: Pick<Refusal, 'accessKeyId' | 'stringToSign'> = {}): Refusal => ({
  ok: false,
  status: 403,
  code,
  message,
  ...extra,
});

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function stale(at: number, now: number): boolean {
  return !Number.isFinite(at) || Math.abs(now - at) > MAX_SKEW_MS;
}

function ossHeaders(headers: Readonly<Record<string, string>>): string[] {
  return Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort();
}

/** The common checks of both versions: a known key, its STS token, and the body's Content-MD5 when one is sent. */
function credentialCheck(
  request: SignedRequest,
  accessKeyId: string,
  lookup: (accessKeyId: string) => OssCredential | undefined,
): OssCredential | VerifyResult {
  const credential = lookup(accessKeyId);
  if (!credential)
    return denied('InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  if (credential.securityToken !== undefined && request.headers['x-oss-security-token'] !== credential.securityToken)
    return denied('InvalidAccessKeyId', 'The security token you provided is invalid.');
  return credential;
}

export function v1StringToSign(request: SignedRequest): string {
  const h = request.headers;
  const lines = [request.method, h['content-md5'] ?? '', h['content-type'] ?? '', h['date'] ?? h['x-oss-date'] ?? ''];
  for (const name of ossHeaders(h)) lines.push(`${name}:${(h[name] ?? '').trim()}`);
  const sub = request.query
    .filter(([name]) => V1_SUBRESOURCES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`));
  const resource = `/${request.bucket}/${request.key}${sub.length > 0 ? `?${sub.join('&')}` : ''}`;
  return `${lines.join('\n')}\n${resource}`;
}

function verifyV1(
  request: SignedRequest,
  authorization: string,
  lookup: (accessKeyId: string) => OssCredential | undefined,
  now: number,
): VerifyResult {
  const match = V1_AUTHORIZATION.exec(authorization);
  if (!match) return denied('AccessDenied', 'The Authorization header is malformed.');
  const [, accessKeyId = '', signature = ''] = match;
  const date = request.headers['date'] ?? request.headers['x-oss-date'];
  if (date === undefined) return denied('AccessDenied', 'The request carries neither Date nor x-oss-date.');
  if (stale(Date.parse(date), now))
    return denied('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  const credential = credentialCheck(request, accessKeyId, lookup);
  if ('ok' in credential) return credential;
  const stringToSign = v1StringToSign(request);
  const expected = createHmac('sha1', credential.accessKeySecret).update(stringToSign, 'utf8').digest('base64');
  if (!same(expected, signature))
    return denied(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { accessKeyId, stringToSign },
    );
  return { ok: true, accessKeyId };
}

/** RFC 3986 encoding as OSS V4 wants it: encodeURIComponent plus `!'()*`. */
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function v4CanonicalRequest(request: SignedRequest, additional: readonly string[]): string {
  const h = request.headers;
  const uri = encode(`/${request.bucket}/${request.key}`).replace(/%2F/g, '/');
  const query = request.query
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`))
    .join('&');
  const names = new Set(additional);
  for (const name of Object.keys(h))
    if (name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-')) names.add(name);
  const headers = [...names]
    .sort()
    .map((name) => `${name}:${(h[name] ?? '').trim()}\n`)
    .join('');
  return [request.method, uri, query, headers, additional.join(';'), h['x-oss-content-sha256'] ?? ''].join('\n');
}

function verifyV4(
  request: SignedRequest,
  authorization: string,
  lookup: (accessKeyId: string) => OssCredential | undefined,
  now: number,
  region: string,
): VerifyResult {
  const match = V4_AUTHORIZATION.exec(authorization);
  if (!match) return denied('AccessDenied', 'The Authorization header is malformed.');
  const [, accessKeyId = '', scopeDate = '', scopeRegion = '', additionalText, signature = ''] = match;
  const date = request.headers['x-oss-date'] ?? '';
  const parts = V4_DATE.exec(date);
  if (!parts) return denied('AccessDenied', 'x-oss-date must be an ISO 8601 basic time (yyyymmddTHHMMSSZ).');
  const [, y, mo, d, hh, mi, ss] = parts;
  if (stale(Date.parse(`${y}-${mo}-${d}T${hh}:${mi}:${ss}Z`), now))
    return denied('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  if (scopeDate !== date.slice(0, 8))
    return denied('AccessDenied', 'The credential scope date is not the request date.');
  if (scopeRegion !== region) return denied('AccessDenied', `The credential scope region must be ${region}.`);
  const payload = request.headers['x-oss-content-sha256'];
  if (payload === undefined) return denied('AccessDenied', 'x-oss-content-sha256 is required.');
  if (payload !== 'UNSIGNED-PAYLOAD' && payload !== createHash('sha256').update(request.body).digest('hex'))
    return denied('SignatureDoesNotMatch', 'x-oss-content-sha256 does not match the request body.');
  const additional = additionalText === undefined ? [] : additionalText.split(';');
  if (additional.some((name) => request.headers[name] === undefined))
    return denied('AccessDenied', 'Every additional header must be present.');
  const credential = credentialCheck(request, accessKeyId, lookup);
  if ('ok' in credential) return credential;
  const scope = `${scopeDate}/${region}/oss/aliyun_v4_request`;
  const canonical = v4CanonicalRequest(request, additional);
  const stringToSign = ['OSS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  );
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(
    hmac(hmac(hmac(`aliyun_v4${credential.accessKeySecret}`, scopeDate), region), 'oss'),
    'aliyun_v4_request',
  );
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (!same(expected, signature))
    return denied(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { accessKeyId, stringToSign },
    );
  return { ok: true, accessKeyId };
}

/** A request signed with V1 or V4 by a known key, recent, and with its body as its Content-MD5 says; else why not. */
export function verifyOssRequest(
  request: SignedRequest,
  lookup: (accessKeyId: string) => OssCredential | undefined,
  options: { now: number; region: string },
): VerifyResult {
  const authorization = (request.headers['authorization'] ?? '').trim();
  if (authorization === '')
    return denied('AccessDenied', 'You have no right to access this object (no Authorization).');
  const verdict = authorization.startsWith('OSS4-HMAC-SHA256 ')
    ? verifyV4(request, authorization, lookup, options.now, options.region)
    : authorization.startsWith('OSS ')
      ? verifyV1(request, authorization, lookup, options.now)
      : denied('AccessDenied', 'The Authorization header names no OSS signature version.');
  if (!verdict.ok) return verdict;
  // The signature covers Content-MD5, so a body changed after signing shows here.
  const md5 = request.headers['content-md5'];
  if (md5 !== undefined && md5 !== createHash('md5').update(request.body).digest('base64'))
    return { ok: false, status: 400, code: 'InvalidDigest', message: 'The Content-MD5 you specified is not valid.' };
  return verdict;
}
