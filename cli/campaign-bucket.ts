import type { BucketConfig } from '../lib/campaigns/bucket.js';
import type { Env } from '../lib/config.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../local/emulator/defaults.js';
import { CallError, UsageError } from './exit.js';
import { localCredentials } from './target.js';
import { inline } from './terminal.js';

export const DEFAULT_BUCKET = 'coupon-campaigns';
export const DEFAULT_OSS_PORT = '9200';
/** Where the campaign functions write everything of a campaign in the bucket (campaigns/<CampaignId>/…). */
export const DEFAULT_RESULTS_PREFIX = 'campaigns';

/** Where the command puts lists and reads results, and how it signs: from the environment, checked. */
export interface BucketSettings extends Omit<BucketConfig, 'signatureV4'> {
  resultsPrefix: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * OSS_ENDPOINT / OSS_REGION / OSS_BUCKET and the keys. For the local stack (no --url) the endpoint defaults to
 * the stack's bucket (127.0.0.1:$OSS_PORT) and the key to the stack's own; for a deployment both must be given.
 */
export function bucketSettings(env: Env, local: boolean): BucketSettings {
  const text = (name: string) => (env[name]?.trim() ? env[name]?.trim() : undefined);
  const bucket = text('OSS_BUCKET') ?? DEFAULT_BUCKET;
  if (!BUCKET_NAME.test(bucket))
    throw new UsageError(
      `OSS_BUCKET must be a bucket name: 3-63 lowercase letters, digits and hyphens (got "${inline(bucket.slice(0, 64))}")`,
    );
  let endpoint = text('OSS_ENDPOINT');
  if (endpoint === undefined && local) endpoint = `http://127.0.0.1:${text('OSS_PORT') ?? DEFAULT_OSS_PORT}`;
  if (endpoint !== undefined) {
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    } catch {
      throw new UsageError(`OSS_ENDPOINT must be an http:// or https:// URL (got "${inline(endpoint.slice(0, 64))}")`);
    }
  }
  const rawRegion = text('OSS_REGION');
  if (endpoint === undefined && rawRegion === undefined)
    throw new UsageError('set OSS_ENDPOINT or OSS_REGION (such as oss-cn-hangzhou): where the list is uploaded');
  const region = rawRegion === undefined ? 'oss-cn-hangzhou' : rawRegion.replace(/^(?!oss-)/, 'oss-');
  if (!/^oss-[a-z0-9-]{2,40}$/.test(region))
    throw new UsageError(`OSS_REGION must be a region such as oss-cn-hangzhou (got "${inline(region.slice(0, 64))}")`);

  const id = text('OSS_ACCESS_KEY_ID');
  const secret = text('OSS_ACCESS_KEY_SECRET');
  if ((id === undefined) !== (secret === undefined))
    throw new UsageError('set both OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET, or neither');
  let keys: { accessKeyId: string; accessKeySecret: string; securityToken?: string } | undefined;
  if (id !== undefined && secret !== undefined) {
    const token = text('OSS_SECURITY_TOKEN');
    keys = { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}) };
  } else if (local) {
    // The local stack's bucket accepts its callers' keys (LOCAL_CALLER_KEYS) and its own development key.
    keys = localCredentials(env) ?? {
      accessKeyId: text('EMULATOR_ACCESS_KEY_ID') ?? DEFAULT_EMULATOR_KEY_ID,
      accessKeySecret: text('EMULATOR_ACCESS_KEY_SECRET') ?? DEFAULT_EMULATOR_KEY_SECRET,
    };
  } else {
    const cloudId = text('ALIBABA_CLOUD_ACCESS_KEY_ID');
    const cloudSecret = text('ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    if (cloudId === undefined || cloudSecret === undefined)
      throw new UsageError(
        'set OSS_ACCESS_KEY_ID/_SECRET or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET: the keys the bucket is signed with',
      );
    const token = text('ALIBABA_CLOUD_SECURITY_TOKEN');
    keys = { accessKeyId: cloudId, accessKeySecret: cloudSecret, ...(token ? { securityToken: token } : {}) };
  }
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    region,
    bucket,
    ...keys,
    resultsPrefix: DEFAULT_RESULTS_PREFIX,
  };
}

/** What the campaign commands do with the bucket. */
export interface CampaignBucket {
  put(key: string, body: Buffer): Promise<void>;
  /** Every key under a prefix, in key order. */
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<Buffer>;
}

interface OssFailure {
  status?: unknown;
  code?: unknown;
  name?: unknown;
  message?: unknown;
}

/** An OSS failure as the command says it: a refused key is a configuration error, anything else a failed call. */
function failure(err: unknown, what: string, where: string): Error {
  const e = (err ?? {}) as OssFailure;
  const code = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'Error';
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'SecurityTokenExpired'].includes(code))
    return new UsageError(
      `the bucket at ${where} refused the key (${code}) while ${what}: set OSS_ACCESS_KEY_ID/_SECRET as the bucket has them`,
    );
  if (code === 'NoSuchBucket')
    return new UsageError(`the bucket ${where} does not exist (NoSuchBucket): set OSS_BUCKET`);
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ConnectionTimeout|RequestError/i.test(`${code} ${String(e.message)}`))
    return new CallError(
      `the bucket does not answer at ${where} while ${what}; start the local stack (npm start) or set OSS_ENDPOINT`,
    );
  const status = typeof e.status === 'number' ? ` HTTP ${e.status}` : '';
  return new CallError(`the bucket at ${where} failed while ${what} (${inline(code.slice(0, 64))}${status})`);
}

/**
 * The official OSS client (`ali-oss`), imported only when a campaign command needs the bucket: every other
 * command, and `coupon --help`, never loads it.
 */
export async function openCampaignBucket(s: BucketSettings): Promise<CampaignBucket> {
  let OSS: typeof import('ali-oss').default;
  try {
    // Kept out of the bundle (scripts/build-cli.ts): resolved from the package's dependencies.
    OSS = (await import('ali-oss')).default;
  } catch {
    throw new UsageError(
      'the OSS client (ali-oss) cannot be loaded: install the command with its dependencies (npm install -g coupon-sender-*.tgz, or npm ci in a checkout)',
    );
  }
  const client = new OSS({
    region: s.region,
    bucket: s.bucket,
    accessKeyId: s.accessKeyId,
    accessKeySecret: s.accessKeySecret,
    ...(s.endpoint === undefined
      ? { secure: true }
      : { endpoint: s.endpoint, secure: s.endpoint.startsWith('https:') }),
    ...(s.securityToken === undefined ? {} : { stsToken: s.securityToken }),
  });
  const where = `${s.endpoint ?? s.region}/${s.bucket}`;
  const guarded = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw failure(err, what, where);
    }
  };
  return {
    put: (key, body) =>
      guarded(`uploading ${key}`, async () => {
        await client.put(key, body, { mime: 'text/plain; charset=utf-8' });
      }),
    list: (prefix) =>
      guarded(`listing ${prefix}`, async () => {
        const keys: string[] = [];
        let token: string | null = null;
        do {
          const page: Awaited<ReturnType<typeof client.listV2>> = await client.listV2({
            prefix,
            'max-keys': 1000,
            ...(token === null ? {} : { 'continuation-token': token }),
          });
          keys.push(...(page.objects ?? []).map((o) => o.name));
          token = page.isTruncated ? page.nextContinuationToken : null;
        } while (token !== null);
        return keys.sort();
      }),
    get: (key) => guarded(`reading ${key}`, async () => (await client.get(key)).content),
  };
}
