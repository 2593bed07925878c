import { signRequest, type AcsCredentials } from '../lib/acs/sign-request.js';
import type { Env } from '../lib/config.js';
import { parseCallerKeys } from '../local/auth/caller-auth.js';
import { CallError, OutcomeUnknownError, UsageError } from './exit.js';

export { UsageError };

/** Where `coupon send` delivers, and how it signs: the local stack, a deployed HTTP trigger, or InvokeFunction. */
export type Target =
  | { kind: 'local'; base: URL; credentials?: AcsCredentials }
  | { kind: 'http'; base: URL; credentials: AcsCredentials }
  | { kind: 'function'; url: URL; async: boolean; credentials: AcsCredentials };

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

/** Nothing reached the target when the connection was refused, the name did not resolve, or fetch refused the port. */
const neverSent = (err: unknown): boolean => {
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  return (
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(String(cause?.code)) ||
    cause?.message === 'bad port'
  );
};

/** A send request: a refused connection sent nothing; a connection lost after the request may have sent it. */
async function post(url: URL, body: string, credentials: AcsCredentials | undefined, headers?: Record<string, string>) {
  try {
    return await request('POST', url, body, credentials, headers);
  } catch (err) {
    if (neverSent(err)) throw new CallError(`${url.origin} does not answer: nothing was sent`);
    throw new OutcomeUnknownError(
      `the connection to ${url.origin} was lost before its answer: the send may have happened`,
    );
  }
}

/** The answer's body; a connection lost while reading it leaves the outcome unknown. */
async function answerText(res: Response): Promise<string> {
  try {
    return await res.text();
  } catch {
    throw new OutcomeUnknownError('the connection was lost while the answer was read: the send may have happened');
  }
}

export interface Delivered {
  status: number;
  text: string;
  /** FC's invocation id, for an asynchronous invocation. */
  async?: string;
  /** The function answered from its record (`Idempotent-Replayed: true`): nothing was sent now. */
  replayed?: boolean;
}

/** Sends one send request (flat, envelope or batch) to the target; gives the HTTP status and the answer's text. */
export async function deliver(target: Target, body: string): Promise<Delivered> {
  if (target.kind === 'function') {
    const headers: Record<string, string> = { 'x-fc-invocation-type': target.async ? 'Async' : 'Sync' };
    const res = await post(target.url, body, target.credentials, headers);
    const text = await answerText(res);
    if (target.async) return { status: res.status, text, async: res.headers.get('x-fc-request-id') ?? '' };
    return {
      status: res.headers.get('x-fc-error-type') ? 500 : res.status,
      text,
      replayed: res.headers.get('idempotent-replayed') === 'true',
    };
  }
  const res = await post(new URL('/coupons', target.base), body, target.credentials);
  return {
    status: res.status,
    text: await answerText(res),
    replayed: res.headers.get('idempotent-replayed') === 'true',
  };
}
