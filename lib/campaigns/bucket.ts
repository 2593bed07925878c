import type { Readable } from 'node:stream';
import type { AliOssOptions } from 'ali-oss';

/** The object store a campaign reads its list from and writes results to; `ali-oss` behind it, loaded on first use. */
export interface Bucket {
  /** Bytes [start, end) of an object, by a ranged GET; anything but exactly those bytes is an error. */
  getRange(key: string, start: number, end: number): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
  head(key: string): Promise<{ size: number; etag: string }>;
  put(key: string, body: Buffer): Promise<void>;
}

export interface BucketConfig {
  /** `http://127.0.0.1:PORT` locally (the bucket then travels in the Host header), else unset and `region` decides. */
  endpoint?: string;
  /** OSS region id as ali-oss takes it: `oss-cn-hangzhou`. */
  region: string;
  bucket: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** Sign with OSS V4 (OSS4-HMAC-SHA256) instead of V1. */
  signatureV4?: boolean;
}

/**
 * `ali-oss` is imported here, on the first call, never at module load: only the campaign functions pay for it,
 * and the send functions' cold start does not move.
 */
export async function openBucket(config: BucketConfig): Promise<Bucket> {
  const { default: OSS } = await import('ali-oss');
  const options: AliOssOptions = {
    region: config.region,
    bucket: config.bucket,
    accessKeyId: config.accessKeyId,
    accessKeySecret: config.accessKeySecret,
    authorizationV4: config.signatureV4 ?? false,
    ...(config.endpoint === undefined ? { secure: true } : { endpoint: config.endpoint, secure: false }),
    ...(config.securityToken === undefined ? {} : { stsToken: config.securityToken }),
  };
  const client = new OSS(options);
  return {
    async getRange(key, start, end) {
      const { content, res } = await client.get(key, { headers: { Range: `bytes=${start}-${end - 1}` } });
      // OSS answers an unusable range with the whole object (200): only a 206 of exactly these bytes will do.
      const expected = `bytes ${start}-${end - 1}/`;
      if (
        res.status !== 206 ||
        !(res.headers['content-range'] ?? '').startsWith(expected) ||
        content.length !== end - start
      )
        throw new Error(`the ranged read of ${key} [${start}, ${end}) did not return exactly those bytes`);
      return content;
    },
    async getStream(key) {
      return (await client.getStream(key)).stream;
    },
    async head(key) {
      const { res } = await client.head(key);
      return { size: Number(res.headers['content-length']), etag: res.headers['etag'] ?? '' };
    },
    async put(key, body) {
      await client.put(key, body);
    },
  };
}
