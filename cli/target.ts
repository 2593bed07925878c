import { signRequest, type AcsCredentials } from '../lib/acs/sign-request.js';
import type { Env } from '../lib/config.js';
import { parseCallerKeys } from '../local/auth/caller-auth.js';

/** Where `coupon send` delivers, and how it signs: the local stack, a deployed HTTP trigger, or InvokeFunction. */
export type Target =
  | { kind: 'local'; base: URL; credentials?: AcsCredentials }
  | { kind: 'http'; base: URL; credentials: AcsCredentials }
  | { kind: 'function'; url: URL; async: boolean; credentials: AcsCredentials };

export class UsageError extends Error {}

export function localBase(env: Env): URL {
  return new URL(`http://127.0.0.1:${env['PORT'] || '9000'}`);
}

/** The first LOCAL_CALLER_KEYS key, for a local stack that checks callers (LOCAL_AUTH=function). */
export function localCredentials(env: Env): AcsCredentials | undefined {
  const raw = env['LOCAL_CALLER_KEYS'];
  if (!raw) return undefined;
  const keys = parseCallerKeys(raw);
  if (typeof keys === 'string') throw new UsageError(keys);
  const [first] = keys;
  return first ? { accessKeyId: first[0], accessKeySecret: first[1] } : undefined;
}

export function cloudCredentials(env: Env): AcsCredentials {
  const accessKeyId = env['ALIBABA_CLOUD_ACCESS_KEY_ID'];
  const accessKeySecret = env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'];
  if (!accessKeyId || !accessKeySecret) {
    throw new UsageError(
      'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET to call a deployed function',
    );
  }
  const token = env['ALIBABA_CLOUD_SECURITY_TOKEN'];
  return { accessKeyId, accessKeySecret, ...(token ? { securityToken: token } : {}) };
}

export interface TargetOptions {
  url?: string;
  region?: string;
  function?: string;
  async?: boolean;
  'account-id'?: string;
  'fc-endpoint'?: string;
}

export function targetOf(o: TargetOptions, env: Env): Target {
  if (o.url !== undefined && o.function !== undefined) throw new UsageError('give --url or --function, not both');
  if (o.url !== undefined) return { kind: 'http', base: new URL(o.url), credentials: cloudCredentials(env) };
  if (o.function !== undefined) {
    const account = o['account-id'] ?? env['ALIBABA_CLOUD_ACCOUNT_ID'];
    const region = o.region ?? env['FC_DEPLOY_REGION'];
    const endpoint =
      o['fc-endpoint'] ?? (account && region ? `https://${account}.${region}.fc.aliyuncs.com` : undefined);
    if (!endpoint) throw new UsageError('--function needs --region and --account-id (or ALIBABA_CLOUD_ACCOUNT_ID)');
    const url = new URL(`/2023-03-30/functions/${encodeURIComponent(o.function)}/invocations`, endpoint);
    return { kind: 'function', url, async: o.async ?? false, credentials: cloudCredentials(env) };
  }
  if (o.async) throw new UsageError('--async goes with --function');
  const credentials = localCredentials(env);
  return { kind: 'local', base: localBase(env), ...(credentials ? { credentials } : {}) };
}

/** One signed (when there are credentials) request. */
export async function request(
  method: string,
  url: URL,
  body: string,
  credentials: AcsCredentials | undefined,
  headers: Record<string, string> = {},
): Promise<Response> {
  const all = body === '' ? headers : { 'content-type': 'application/json', ...headers };
  const signed = credentials ? signRequest({ method, url, headers: all, body }, credentials) : all;
  return fetch(url, { method, headers: signed, ...(method === 'GET' ? {} : { body }) });
}

/** Sends one send request (any §3 form) to the target; gives the HTTP status and the answer's JSON text. */
export async function deliver(target: Target, body: string): Promise<{ status: number; text: string; async?: string }> {
  if (target.kind === 'function') {
    const headers: Record<string, string> = { 'x-fc-invocation-type': target.async ? 'Async' : 'Sync' };
    const res = await request('POST', target.url, body, target.credentials, headers);
    const text = await res.text();
    if (target.async) return { status: res.status, text, async: res.headers.get('x-fc-request-id') ?? '' };
    return { status: res.headers.get('x-fc-error-type') ? 500 : res.status, text };
  }
  const res = await request('POST', new URL('/coupons', target.base), body, target.credentials);
  return { status: res.status, text: await res.text() };
}
